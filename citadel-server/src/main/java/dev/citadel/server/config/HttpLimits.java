package dev.citadel.server.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/** Limits the listener enforces before any request reaches an operation. */
public record HttpLimits(int maxHeaderBytes, long maxBodyBytes, Duration idleTimeout, int maxConnections, int maxThreads) {
    public HttpLimits {
        requireNonNull(idleTimeout, "idleTimeout is null");
        if (maxHeaderBytes < 1024 || maxBodyBytes < 1 || maxConnections < 1 || maxThreads < 8) {
            throw new IllegalArgumentException("limits out of range");
        }
    }
}

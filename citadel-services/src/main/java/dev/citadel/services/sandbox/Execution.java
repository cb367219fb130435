package dev.citadel.services.sandbox;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/** A started container. */
public interface Execution {
    String id();

    /** Completes when the container has ended and every process of it is gone. Never completes exceptionally. */
    CompletableFuture<Exit> exit();

    /** SIGTERM to every process of the container, SIGKILL after {@code grace}. Returns at once. */
    void stop(Duration grace);

    /**
     * Opens a connection to a TCP port the container listens on inside its own network namespace
     * (a serving container's 8080). The sandbox bridges it through a channel only Citadel can
     * reach (a Unix socket for runc, the API server's port forwarding for Kubernetes); there is no
     * IP path between the container and anything else. Each call is a new connection; closing it
     * closes that connection only.
     *
     * @throws SandboxException when this sandbox cannot reach the port or the container is gone
     */
    default java.nio.channels.ByteChannel connect(int port) throws java.io.IOException {
        throw new SandboxException("this sandbox cannot reach a container's port");
    }

    /** Why a container ended. */
    enum Reason {
        /** Its processes ended by themselves (or were killed by the kernel, e.g. out of memory). */
        EXITED,
        /** The spec's time limit ended it. */
        TIME_LIMIT,
        /** {@link #stop} ended it. */
        STOPPED,
        /** The sandbox lost it (the runtime failed); {@code detail} says how. */
        LOST
    }

    /**
     * @param code   the exit code; 128 + the signal when a signal ended it
     * @param reason why it ended
     * @param detail for LOST, what happened; otherwise empty. Never contains output of the container.
     */
    record Exit(int code, Reason reason, Instant at, String detail) {
    }
}

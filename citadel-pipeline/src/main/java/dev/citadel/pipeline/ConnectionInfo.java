package dev.citadel.pipeline;

import static java.util.Objects.requireNonNull;

/**
 * What the listener knows about the connection a request came on.
 *
 * @param endpointId the id of the listener (or VPC endpoint) it arrived at; empty for the default one
 */
public record ConnectionInfo(String sourceIp, String tlsVersion, String cipherSuite, String endpointId) {
    public ConnectionInfo {
        requireNonNull(sourceIp, "sourceIp is null");
        requireNonNull(tlsVersion, "tlsVersion is null");
        requireNonNull(cipherSuite, "cipherSuite is null");
        requireNonNull(endpointId, "endpointId is null");
    }
}

package dev.citadel.server.config;

import static java.util.Objects.requireNonNull;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A private endpoint, Citadel's analogue of a VPC interface endpoint: its own TLS listener with an
 * id ({@code vpce-} and 8 to 17 lower-case letters or digits) and an optional endpoint policy file.
 */
public record PrivateEndpoint(String id, InetSocketAddress listen, Optional<Path> policyFile) {
    public static final Pattern ID = Pattern.compile("vpce-[0-9a-z]{8,17}");

    public PrivateEndpoint {
        requireNonNull(id, "id is null");
        requireNonNull(listen, "listen is null");
        requireNonNull(policyFile, "policyFile is null");
        if (!ID.matcher(id).matches()) {
            throw new ConfigException("private endpoint id '" + id + "' must look like vpce-0123456789abcdef0");
        }
    }
}

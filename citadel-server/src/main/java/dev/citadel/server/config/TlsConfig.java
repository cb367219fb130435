package dev.citadel.server.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * TLS material: either operator-supplied PEM files, or none, in which case Citadel issues a server
 * certificate from its own local CA for {@code localhost}, {@code 127.0.0.1} and {@code hostnames}.
 */
public record TlsConfig(Optional<Path> certificateFile, Optional<Path> privateKeyFile, List<String> hostnames) {
    public TlsConfig {
        requireNonNull(certificateFile, "certificateFile is null");
        requireNonNull(privateKeyFile, "privateKeyFile is null");
        hostnames = List.copyOf(hostnames);
        if (certificateFile.isPresent() != privateKeyFile.isPresent()) {
            throw new ConfigException("tls.certificate and tls.private-key must be given together");
        }
        for (String name : hostnames) {
            if (!name.matches("[A-Za-z0-9.:*-]{1,253}")) {
                throw new ConfigException("tls.hostnames: '" + name + "' is not a DNS name or IP address");
            }
        }
    }

    public boolean operatorSupplied() {
        return certificateFile.isPresent();
    }
}

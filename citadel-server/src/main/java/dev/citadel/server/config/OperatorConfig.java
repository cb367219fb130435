package dev.citadel.server.config;

import static java.util.Objects.requireNonNull;

import dev.citadel.core.SecretBytes;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The operator listener ({@code operator.*}): where it listens, or nowhere, and the bearer token
 * it requires. Deny by default: on a loopback address it speaks plain HTTP and the token is
 * optional; on any other address it speaks TLS and a token is required, or the start is refused.
 *
 * @param listen   where it listens; empty for no operator listener
 * @param loopback the address is a loopback literal ({@code 127.0.0.0/8}, {@code ::1}) or {@code localhost}
 * @param token    the bearer token every request must carry, or empty (only on loopback)
 */
public record OperatorConfig(Optional<InetSocketAddress> listen, boolean loopback, Optional<SecretBytes> token) {
    private static final java.util.regex.Pattern TOKEN = java.util.regex.Pattern.compile("[A-Za-z0-9._~+/=-]{32,512}");

    public OperatorConfig {
        requireNonNull(listen, "listen is null");
        requireNonNull(token, "token is null");
        if (listen.isPresent() && !loopback && token.isEmpty()) {
            throw new ConfigException("operator.listen " + listen.get().getHostString() + ":" + listen.get().getPort()
                    + " is not a loopback address, so the operator listener needs a bearer token: set operator.token-file to a file "
                    + "(mode 0600) whose first line is the token scrapers send (see docs/OPERATIONS.md)");
        }
    }

    /** Whether the listener speaks TLS: everywhere but on loopback. */
    public boolean tls() {
        return !loopback;
    }

    static OperatorConfig from(Settings s, InetSocketAddress apiListen) {
        String raw = s.get(ConfigKey.OPERATOR_LISTEN);
        String tokenFile = s.get(ConfigKey.OPERATOR_TOKEN_FILE);
        if (raw.isBlank()) {
            if (!tokenFile.isEmpty()) {
                throw new ConfigException("operator.token-file is set but operator.listen is empty (no operator listener)");
            }
            return new OperatorConfig(Optional.empty(), true, Optional.empty());
        }
        InetSocketAddress listen = ServerConfig.parseListen(raw, "operator.listen");
        if (listen.getPort() != 0 && listen.getPort() == apiListen.getPort()
                && (listen.getHostString().equals(apiListen.getHostString()) || isWildcard(listen) || isWildcard(apiListen))) {
            throw new ConfigException("operator.listen must not use the port of listen (" + listen.getPort() + ")");
        }
        Optional<SecretBytes> token = tokenFile.isEmpty() ? Optional.empty() : Optional.of(token(Path.of(tokenFile)));
        return new OperatorConfig(Optional.of(listen), isLoopback(listen.getHostString()), token);
    }

    /** A loopback literal or the name localhost; any other name is not trusted to stay on this machine. */
    static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        try {
            return InetAddress.ofLiteral(host).isLoopbackAddress();
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static boolean isWildcard(InetSocketAddress a) {
        return a.getHostString().equals("0.0.0.0") || a.getHostString().equals("::");
    }

    /** The first line of the token file, which only its owner may read; an error names the file, never its content. */
    private static SecretBytes token(Path file) {
        try {
            dev.citadel.server.fs.SecureFiles.requireOwnerOnly(file);
        } catch (IllegalStateException | java.io.UncheckedIOException e) {
            throw new ConfigException("operator.token-file: " + e.getMessage());
        }
        String line;
        try {
            List<String> lines = Files.readAllLines(file.toAbsolutePath());
            line = lines.isEmpty() ? "" : lines.getFirst().strip();
        } catch (IOException e) {
            throw new ConfigException("cannot read operator.token-file " + file + " (" + e.getClass().getSimpleName() + ")");
        }
        if (!TOKEN.matcher(line).matches()) {
            throw new ConfigException("operator.token-file " + file + " must hold a token of 32 to 512 characters of A-Z a-z 0-9 . _ ~ + / = - "
                    + "on its first line (for example: openssl rand -hex 32)");
        }
        return SecretBytes.ofUtf8(line);
    }
}

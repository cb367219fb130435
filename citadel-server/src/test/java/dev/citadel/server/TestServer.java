package dev.citadel.server;

import dev.citadel.server.bootstrap.ClientFiles;
import dev.citadel.server.config.ConfigKey;
import dev.citadel.server.config.ServerConfig;
import dev.citadel.server.config.Settings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** A Citadel started in this JVM on a free loopback port and a temporary data directory; closing stops it and deletes the directory. */
public final class TestServer implements AutoCloseable {
    private final Path dataDir;
    private final Citadel citadel;

    private TestServer(Path dataDir, Citadel citadel) {
        this.dataDir = dataDir;
        this.citadel = citadel;
    }

    public static TestServer start(String... overrides) {
        try {
            Path dir = Files.createTempDirectory("citadel-test-");
            return new TestServer(dir, Citadel.start(config(dir, overrides)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts again on the same data directory, as a restart would. */
    public TestServer restart(String... overrides) {
        citadel.close();
        return new TestServer(dataDir, Citadel.start(config(dataDir, overrides)));
    }

    public static ServerConfig config(Path dir, String... overrides) {
        Settings s = Settings.defaults().with(ConfigKey.DATA_DIR, dir.toString()).with(ConfigKey.LISTEN, "127.0.0.1:0")
                .with(ConfigKey.OPERATOR_LISTEN, "127.0.0.1:0");
        if ("pkcs11".equals(System.getProperty("citadel.test.rootKeyProvider"))) {
            // The whole suite once more with the root key in SoftHSM2 (see the pkcs11-root-key Surefire execution).
            s = s.with(ConfigKey.ROOT_KEY_PROVIDER, "pkcs11")
                    .with(ConfigKey.ROOT_KEY_PKCS11_PIN_FILE, dev.citadel.server.keys.SoftHsm.pinFile().toString());
        }
        for (String o : overrides) {
            s = s.with(o);
        }
        return ServerConfig.from(s);
    }

    public Citadel citadel() {
        return citadel;
    }

    public int port() {
        return citadel.port();
    }

    public URI endpoint() {
        return URI.create("https://localhost:" + port());
    }

    public Path dataDir() {
        return dataDir;
    }

    public ClientFiles clientFiles() {
        return new ClientFiles(dataDir);
    }

    /** Stops the server but keeps the data directory (for restart tests). */
    public void stop() {
        citadel.close();
    }

    @Override
    public void close() {
        citadel.close();
        try (Stream<Path> files = Files.walk(dataDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

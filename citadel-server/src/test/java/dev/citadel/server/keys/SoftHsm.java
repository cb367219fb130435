package dev.citadel.server.keys;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * A SoftHSM2 token for tests, initialised once per build in {@code target/softhsm} (the test JVM
 * gets {@code SOFTHSM2_CONF} pointing there from Surefire, since a process cannot set its own
 * environment). The module and {@code softhsm2-util} come from Debian's softhsm2 package, which
 * {@code ./citadel test} installs.
 */
public final class SoftHsm {
    public static final Path LIBRARY = Path.of("/usr/lib/softhsm/libsofthsm2.so");
    public static final String TOKEN = "citadel-test";

    private SoftHsm() {
    }

    /** The configuration file Surefire named, with its token initialised; returns the PIN file. */
    public static synchronized Path pinFile() {
        String conf = System.getenv("SOFTHSM2_CONF");
        if (conf == null || !Files.isRegularFile(LIBRARY)) {
            throw new IllegalStateException("SoftHSM2 is not set up: install softhsm2 (./citadel test does) and run through Maven, "
                    + "which sets SOFTHSM2_CONF");
        }
        try {
            Path dir = Path.of(conf).getParent();
            Path tokens = dir.resolve("tokens");
            Path pin = dir.resolve("pin");
            if (!Files.exists(pin)) {
                Files.createDirectories(tokens);
                Files.writeString(Path.of(conf), "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\n");
                Process p = new ProcessBuilder("softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--so-pin", "0000", "--pin", "1234")
                        .redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (p.waitFor() != 0) {
                    throw new IllegalStateException("softhsm2-util failed: " + out);
                }
                Files.write(pin, List.of("1234"));
                Files.setPosixFilePermissions(pin, PosixFilePermissions.fromString("rw-------"));
            }
            return pin;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

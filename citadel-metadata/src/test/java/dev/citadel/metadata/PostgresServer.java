package dev.citadel.metadata;

import dev.citadel.core.SecretBytes;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server from Debian's package for the tests of one JVM: created with
 * {@code initdb} in a temporary directory owned by the {@code postgres} user (PostgreSQL refuses
 * to run as root), listening on 127.0.0.1 at a free port with its socket in that directory, and
 * stopped and deleted when the JVM exits. If PostgreSQL is not installed the tests fail and say how
 * to install it; they never skip.
 */
public final class PostgresServer {
    private static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
    private static PostgresServer shared;

    private final Path dir;
    private final int port;

    private PostgresServer(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** The server of this test run, started on first use. */
    public static synchronized PostgresServer shared() {
        if (shared == null) {
            shared = start();
            Runtime.getRuntime().addShutdownHook(new Thread(shared::stop, "postgres-stop"));
        }
        return shared;
    }

    public MetadataConfig config(String database) {
        run(List.of(BIN.resolve("psql").toString(), "-h", dir.toString(), "-p", Integer.toString(port), "-U", "postgres", "-d", "postgres",
                "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE " + database), 60);
        return new MetadataConfig("jdbc:postgresql://127.0.0.1:" + port + "/" + database, "postgres", SecretBytes.copyOf(new byte[0]), 4);
    }

    private static PostgresServer start() {
        if (!Files.isExecutable(BIN.resolve("initdb")) || !Files.isExecutable(BIN.resolve("pg_ctl"))) {
            throw new IllegalStateException("PostgreSQL 15 is not installed (" + BIN + "): install PostgreSQL: apt-get install postgresql "
                    + "(./citadel test does this)");
        }
        try {
            Path dir = Files.createTempDirectory("citadel-pg-");
            run(List.of("chown", "postgres:postgres", dir.toString()), 30);
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            Path data = dir.resolve("data");
            asPostgres(List.of(BIN.resolve("initdb").toString(), "-D", data.toString(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                    "--no-sync"), 120);
            asPostgres(List.of(BIN.resolve("pg_ctl").toString(), "-D", data.toString(), "-w", "-t", "60", "-l", dir.resolve("log").toString(),
                    "-o", "-h 127.0.0.1 -p " + port + " -k " + dir + " -F", "start"), 90);
            return new PostgresServer(dir, port);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start PostgreSQL", e);
        }
    }

    private void stop() {
        try {
            asPostgres(List.of(BIN.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", "fast", "-w", "stop"), 60);
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // the temporary directory is gone or will be cleaned with /tmp
            }
        }
    }

    private static void asPostgres(List<String> command, int seconds) {
        List<String> full = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        full.addAll(command);
        run(full, seconds);
    }

    private static void run(List<String> command, int seconds) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(seconds, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command.getFirst(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

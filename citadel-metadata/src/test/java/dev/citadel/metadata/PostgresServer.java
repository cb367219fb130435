package dev.citadel.metadata;

import dev.citadel.core.SecretBytes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.security.SecureRandom;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server from Debian's package, one per test JVM, for any module's tests:
 * {@code PostgresServer.shared().createDatabase()} gives a {@link MetadataConfig} for a new, empty
 * database.
 *
 * <p>The server is created by {@code initdb} in a temporary directory and started by
 * {@code pg_ctl}, as the {@code postgres} OS user when the tests run as root (PostgreSQL refuses to
 * run as root). It listens only on 127.0.0.1 at a free port, with its Unix socket in that
 * directory, and authenticates with SCRAM passwords. Each database belongs to a test role that is
 * not a superuser, so the tests prove Citadel needs no more than a database of its own. The server
 * is stopped ({@code pg_ctl stop -m fast}) and its directory deleted when the JVM exits, whatever
 * the tests' outcome, and at once if starting fails. Durability settings are off: this server is
 * for tests only.
 *
 * <p>If PostgreSQL is not installed the first test that asks for it fails with the command that
 * installs it; nothing is skipped. Another installation directory can be given with
 * {@code -Dcitadel.postgres.bin=…}.
 */
public final class PostgresServer {
    private static final Path BIN = Path.of(System.getProperty("citadel.postgres.bin", "/usr/lib/postgresql/15/bin"));
    private static final String SUPERUSER = "postgres";
    private static final String ROLE = "citadel_test";
    private static final int START_ATTEMPTS = 3;
    private static PostgresServer shared;

    private final Path dir;
    private final int port;
    private final String superuserPassword;
    private final String rolePassword;
    private final AtomicInteger databases = new AtomicInteger();

    private PostgresServer(Path dir, int port, String superuserPassword, String rolePassword) {
        this.dir = dir;
        this.port = port;
        this.superuserPassword = superuserPassword;
        this.rolePassword = rolePassword;
    }

    /** The server of this JVM, started on first use and stopped when the JVM exits. */
    public static synchronized PostgresServer shared() {
        if (shared == null) {
            shared = start();
            Runtime.getRuntime().addShutdownHook(new Thread(shared::stopAndDelete, "postgres-stop"));
        }
        return shared;
    }

    /** A new empty database owned by the test role, and the configuration that reaches it with a password. */
    public MetadataConfig createDatabase() {
        String name = "citadel_test_" + databases.incrementAndGet();
        asSuperuser("CREATE DATABASE " + name + " OWNER " + ROLE);
        return new MetadataConfig(jdbcUrl(name), ROLE, SecretBytes.ofUtf8(rolePassword), 4);
    }

    public int port() {
        return port;
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    private void asSuperuser(String sql) {
        try (Connection c = DriverManager.getConnection(jdbcUrl("postgres"), SUPERUSER, superuserPassword);
                Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("PostgreSQL refused: " + sql, e);
        }
    }

    private static PostgresServer start() {
        for (String tool : List.of("initdb", "pg_ctl", "postgres")) {
            if (!Files.isExecutable(BIN.resolve(tool))) {
                throw new IllegalStateException("PostgreSQL 15 is needed by these tests and " + BIN.resolve(tool) + " is missing: "
                        + "install it with `apt-get install postgresql` (Debian's PostgreSQL 15), or point -Dcitadel.postgres.bin "
                        + "at another installation's bin directory");
            }
        }
        Path dir;
        try {
            dir = Files.createTempDirectory("citadel-pg-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        PostgresServer server = null;
        try {
            String superuserPassword = randomPassword();
            String rolePassword = randomPassword();
            initdb(dir, superuserPassword);
            for (int attempt = 1; server == null; attempt++) {
                int port = freePort();
                if (pgCtlStart(dir, port)) {
                    server = new PostgresServer(dir, port, superuserPassword, rolePassword);
                } else if (attempt == START_ATTEMPTS) {
                    throw new IllegalStateException("PostgreSQL did not start; its log:\n" + readLog(dir));
                }
            }
            server.asSuperuser("CREATE ROLE " + ROLE + " LOGIN PASSWORD '" + rolePassword + "'");
            return server;
        } catch (RuntimeException e) {
            if (server != null) {
                server.stopAndDelete();
            } else {
                delete(dir);
            }
            throw e;
        }
    }

    private static void initdb(Path dir, String superuserPassword) {
        try {
            Path pwfile = dir.resolve("pwfile");
            Files.writeString(pwfile, superuserPassword + "\n");
            Files.setPosixFilePermissions(pwfile, PosixFilePermissions.fromString("rw-------"));
            if (runningAsRoot()) {
                run(List.of("chown", "-R", "postgres:postgres", dir.toString()), 30);
            }
            runAsPostgres(List.of(BIN.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-U", SUPERUSER,
                    "--pwfile=" + pwfile, "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"), 120);
            Files.delete(pwfile);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts the server on {@code port}; false if it did not come up (the port may have been taken meanwhile). */
    private static boolean pgCtlStart(Path dir, int port) {
        String options = "-c listen_addresses=127.0.0.1 -p " + port + " -k " + dir
                + " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
        try {
            runAsPostgres(List.of(BIN.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-w", "-t", "60",
                    "-l", dir.resolve("log").toString(), "-o", options, "start"), 90);
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    private void stopAndDelete() {
        try {
            runAsPostgres(List.of(BIN.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", "fast", "-w", "stop"), 60);
        } finally {
            delete(dir);
        }
    }

    private static String readLog(Path dir) {
        try {
            return Files.readString(dir.resolve("log"));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String randomPassword() {
        byte[] bytes = new byte[16];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    private static boolean runningAsRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static void runAsPostgres(List<String> command, int seconds) {
        List<String> full = new ArrayList<>();
        if (runningAsRoot()) {
            full.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        full.addAll(command);
        run(full, seconds);
    }

    /** Runs a command with its output in a file, not a pipe: a server it starts may keep a pipe open. */
    private static void run(List<String> command, int seconds) {
        Path output = null;
        try {
            output = Files.createTempFile("citadel-pg-command-", ".log");
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish in " + seconds + " s: " + Files.readString(output));
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed (exit " + p.exitValue() + "): " + Files.readString(output));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command.getFirst(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command.getFirst(), e);
        } finally {
            if (output != null) {
                output.toFile().delete();
            }
        }
    }
}

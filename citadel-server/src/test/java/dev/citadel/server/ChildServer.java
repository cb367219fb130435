package dev.citadel.server;

import dev.citadel.server.acceptance.ClientEnvironment;
import dev.citadel.server.bootstrap.ClientFiles;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** A Citadel server in a child JVM (so that a test can kill -9 it), started on a data directory and port. */
final class ChildServer {
    private ChildServer() {
    }

    /** Starts the server and waits until it accepts connections (at most 90 s). */
    static Process start(Path dataDir, int port) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "dev.citadel.server.CitadelMain", "server", "--data-dir", dataDir.toString(), "--listen", "127.0.0.1:" + port,
                "--set", "operator.listen=127.0.0.1:0");
        pb.redirectErrorStream(true).redirectOutput(dataDir.resolveSibling(dataDir.getFileName() + ".log").toFile());
        Process p = pb.start();
        Instant deadline = Instant.now().plus(Duration.ofSeconds(90));
        while (Instant.now().isBefore(deadline)) {
            if (!p.isAlive()) {
                throw new IllegalStateException("the server process stopped: " + Files.readString(dataDir.resolveSibling(dataDir.getFileName() + ".log")));
            }
            if (Files.exists(dataDir.resolve("client/env"))) {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    return p;
                } catch (IOException notYet) {
                    // keep waiting
                }
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        p.destroyForcibly();
        throw new IllegalStateException("the server did not start within 90 s");
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /**
     * Runs a client script (a test resource) against the server of {@code dataDir} with the
     * environment a user gets from its client files, until it has acknowledged {@code atLeast}
     * lines in {@code acks} (or stopped, or 120 s passed); then kills the server with SIGKILL and
     * waits for the script to end. Returns the acknowledged lines.
     */
    static List<String> killDuring(Process server, Path dataDir, String script, Path acks, int atLeast) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("python3", ClientEnvironment.resourceFile(script).toString(), acks.toString());
        pb.environment().keySet().removeIf(k -> k.startsWith("AWS_"));
        pb.environment().putAll(ClientEnvironment.variables(new ClientFiles(dataDir)));
        pb.redirectErrorStream(true).redirectOutput(acks.resolveSibling("client.log").toFile());
        Process client = pb.start();
        try {
            Instant deadline = Instant.now().plus(Duration.ofSeconds(120));
            while (Files.readAllLines(acks).size() < atLeast && Instant.now().isBefore(deadline) && client.isAlive()) {
                Thread.sleep(20);
            }
            server.destroyForcibly().waitFor();
            client.waitFor();
        } finally {
            client.destroyForcibly();
        }
        return Files.readAllLines(acks).stream().filter(l -> !l.isBlank()).toList();
    }

    /** Removes a directory tree (test leftovers). */
    static void deleteTree(Path root) throws IOException {
        try (var walk = Files.walk(root)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}

package dev.citadel.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * moto 5.2.1's server ({@code python3 -m moto.server}) as the peer, with IAM enforcement on:
 * {@code INITIAL_NO_AUTH_ACTION_COUNT} lets the first three calls (create a user, its access key,
 * its policy) through unauthenticated; every call after that is authenticated and authorized.
 */
final class MotoServer implements AutoCloseable {
    static final int UNAUTHENTICATED_SETUP_CALLS = 3;

    private final Process process;
    private final int port;
    private final Path log;

    private MotoServer(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    static MotoServer start() throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path log = Files.createTempFile("moto", ".log");
        ProcessBuilder pb = new ProcessBuilder("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", Integer.toString(port));
        pb.environment().put("INITIAL_NO_AUTH_ACTION_COUNT", Integer.toString(UNAUTHENTICATED_SETUP_CALLS));
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        Process p = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IOException("moto server exited: " + Files.readString(log)
                        + " (moto 5.2.1 is expected in the machine's Python: python3 -m moto.server)");
            }
            try (Socket probe = new Socket("127.0.0.1", port)) {
                return new MotoServer(p, port, log);
            } catch (IOException notYet) {
                Thread.sleep(200);
            }
        }
        p.destroyForcibly();
        throw new IOException("moto server did not listen within 60 s");
    }

    int port() {
        return port;
    }

    @Override
    public void close() throws IOException {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Files.deleteIfExists(log);
    }
}

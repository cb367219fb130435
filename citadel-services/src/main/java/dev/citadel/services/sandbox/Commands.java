package dev.citadel.services.sandbox;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The host tools the sandbox drives (runc, umoci, mkfs.ext4, mount, losetup, chown), each run with a time bound. */
final class Commands {
    /** What a tool printed is kept up to this many bytes (for error messages); the rest is read and dropped. */
    private static final int KEPT_OUTPUT = 64 * 1024;

    record Result(int exitCode, String output) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    private Commands() {
    }

    /** Runs a command and fails, with its output, unless it exits with 0. */
    static String run(List<String> command, Duration limit) throws IOException {
        Result r = attempt(command, limit);
        if (!r.ok()) {
            throw new IOException(String.join(" ", command) + " failed (exit " + r.exitCode() + "): " + r.output().strip());
        }
        return r.output();
    }

    /** Runs a command and reports how it ended; only a failure to start it or a timeout throws. */
    static Result attempt(List<String> command, Duration limit) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        ByteArrayOutputStream kept = new ByteArrayOutputStream();
        Thread reader = Thread.ofVirtual().start(() -> drain(p.getInputStream(), kept));
        try {
            if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                throw new IOException(String.join(" ", command) + " did not finish within " + limit);
            }
            reader.join(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while running " + command.getFirst());
        }
        synchronized (kept) {
            return new Result(p.exitValue(), kept.toString(StandardCharsets.UTF_8));
        }
    }

    private static void drain(InputStream in, ByteArrayOutputStream kept) {
        byte[] buffer = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                synchronized (kept) {
                    kept.write(buffer, 0, Math.max(0, Math.min(n, KEPT_OUTPUT - kept.size())));
                }
            }
        } catch (IOException e) {
            // the process ended or was killed; what was read is kept
        }
    }
}

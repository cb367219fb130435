package dev.citadel.services.sandbox;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.ByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code runc run} and the two threads that watch it: one reads its merged output into the
 * sink, one enforces the time limit and stop requests and, when runc has returned, hands the run
 * to its sandbox to be deleted before the exit completes.
 */
final class RuncExecution implements Execution {
    private static final Logger LOG = LoggerFactory.getLogger(RuncExecution.class);
    private static final Duration KILLED_LIMIT = Duration.ofSeconds(30);

    private final String id;
    private final ContainerSpec spec;
    private final Process process;
    private final Sandbox.OutputSink sink;
    private final Consumer<RuncExecution> finish;
    private final ImageRoots.Root image;
    private final RuncSandbox sandbox;
    private final long startedNanos = System.nanoTime();
    private final CompletableFuture<Exit> exit = new CompletableFuture<>();
    private final CompletableFuture<Duration> stopRequest = new CompletableFuture<>();
    private final Thread reader;
    private long delivered; // the output thread's alone
    private boolean truncated; // the output thread's alone
    private final PortBridges bridges;

    RuncExecution(String id, ContainerSpec spec, Process process, Sandbox.OutputSink sink, RuncSandbox sandbox,
            Consumer<RuncExecution> finish, ImageRoots.Root image, Path runDirectory) {
        this.id = id;
        this.bridges = new PortBridges(id, runDirectory, runDirectory.resolve("pid"));
        this.spec = spec;
        this.process = process;
        this.sink = sink;
        this.sandbox = sandbox;
        this.finish = finish;
        this.image = image;
        this.reader = Thread.ofVirtual().name("sandbox-output-" + id).start(this::pumpOutput);
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public CompletableFuture<Exit> exit() {
        return exit;
    }

    @Override
    public void stop(Duration grace) {
        stopRequest.complete(grace);
    }

    /**
     * A connection to {@code port} in the container's network namespace, through the run's port
     * bridge ({@link PortBridges}): a Unix socket only root can reach, started on first use.
     */
    @Override
    public ByteChannel connect(int port) throws IOException {
        if (exit.isDone() || !process.isAlive()) {
            throw new SandboxException("the container has ended");
        }
        return bridges.connect(port);
    }

    /** Remembers the container's network namespace while its init surely runs (just created). */
    void created() {
        bridges.created();
    }

    ContainerSpec spec() {
        return spec;
    }

    Process process() {
        return process;
    }

    ImageRoots.Root image() {
        return image;
    }

    /** Waits (bounded) until the output thread has read everything runc wrote. */
    void awaitOutput() {
        try {
            reader.join(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void awaitExit(Duration limit) {
        try {
            exit.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("container {} did not end within {}", id, limit);
        }
    }

    /** Starts the supervising thread; the time limit counts from when runc was started. */
    void supervise() {
        Thread.ofVirtual().name("sandbox-supervisor-" + id).start(this::superviseNow);
    }

    private void superviseNow() {
        Exit result;
        try {
            result = waitAndEnd();
        } catch (RuntimeException | IOException e) {
            LOG.warn("supervising container {} failed", id, e);
            process.destroyForcibly();
            result = new Exit(-1, Reason.LOST, Instant.now(), "the sandbox lost the container: " + e.getClass().getSimpleName());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            result = new Exit(-1, Reason.LOST, Instant.now(), "the sandbox was interrupted");
        }
        try {
            bridges.close();
            awaitOutput();
            finish.accept(this);
        } catch (RuntimeException e) {
            LOG.warn("cleaning up container {} failed", id, e);
        } finally {
            exit.complete(result);
        }
    }

    private Exit waitAndEnd() throws IOException, InterruptedException {
        Reason reason = Reason.EXITED;
        Duration grace = spec.grace();
        long remaining = spec.timeLimit().toNanos() - (System.nanoTime() - startedNanos);
        try {
            CompletableFuture.anyOf(process.onExit(), stopRequest).get(Math.max(0, remaining), TimeUnit.NANOSECONDS);
            if (process.isAlive()) {
                reason = Reason.STOPPED;
                grace = stopRequest.getNow(grace);
            }
        } catch (TimeoutException e) {
            reason = Reason.TIME_LIMIT;
        } catch (ExecutionException e) {
            throw new IOException("waiting for runc failed", e.getCause());
        }
        if (process.isAlive()) {
            sandbox.kill(id, "TERM");
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                sandbox.kill(id, "KILL");
                if (!process.waitFor(KILLED_LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(KILLED_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
                    return new Exit(-1, Reason.LOST, Instant.now(), "runc did not end after SIGKILL");
                }
            }
        }
        return new Exit(process.exitValue(), reason, Instant.now(), "");
    }

    /** Lines to the sink until the output limit, then {@code truncated()} once, then reads on to the end without keeping anything. */
    private void pumpOutput() {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        try (InputStream in = process.getInputStream()) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                for (int i = 0; i < n; i++) {
                    if (buffer[i] == '\n') {
                        emit(line);
                    } else if (!truncated) {
                        line.write(buffer[i]);
                        if (line.size() >= RuncSandbox.MAX_LINE_BYTES) {
                            emit(line);
                        }
                    }
                }
            }
            if (line.size() > 0) {
                emit(line);
            }
        } catch (IOException e) {
            // runc's end of the pipe is gone: the container is over
        }
    }

    private void emit(ByteArrayOutputStream line) {
        if (!truncated) {
            long bytes = line.size() + 1L;
            if (delivered + bytes > spec.limits().outputBytes()) {
                truncated = true;
                deliverTruncated();
            } else {
                delivered += bytes;
                deliver(line.toString(StandardCharsets.UTF_8));
            }
        }
        line.reset();
    }

    private void deliver(String text) {
        try {
            sink.line(Instant.now(), text);
        } catch (RuntimeException e) {
            LOG.warn("the output sink of container {} failed", id, e);
        }
    }

    private void deliverTruncated() {
        try {
            sink.truncated();
        } catch (RuntimeException e) {
            LOG.warn("the output sink of container {} failed", id, e);
        }
    }
}

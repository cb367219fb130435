package dev.citadel.server.ops;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this Citadel can serve requests: a list of named checks, each run with a deadline. A
 * required check that fails (or does not answer in time) makes Citadel not ready; an optional one
 * (the sandbox) only marks it degraded. The report names each check and says {@code ok},
 * {@code failed} or {@code degraded}, nothing more; why a check failed goes to the log, once per
 * change, because the reason may name files and hosts.
 */
public final class Readiness implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Readiness.class);

    /** What one check looks at; it returns why it failed, or empty when all is well. */
    @FunctionalInterface
    public interface Probe {
        Optional<String> failure() throws Exception;
    }

    /** A named check; {@code required} checks decide readiness, the others only degrade it. */
    public record Check(String name, boolean required, Probe probe) {
        public Check {
            requireNonNull(name, "name is null");
            requireNonNull(probe, "probe is null");
            if (!name.matches("[a-z][a-z0-9-]{0,31}")) {
                throw new IllegalArgumentException("check names are lower-case words: " + name);
            }
        }
    }

    /** The outcome: ready or not, and each check's word. */
    public record Report(boolean ready, Map<String, String> checks) {
        public Report {
            checks = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(checks));
        }

        /** {@code {"status":"ready","checks":{"metadata":"ok",…}}}: only fixed words and check names. */
        public String json() {
            StringBuilder sb = new StringBuilder(128).append("{\"status\":\"").append(ready ? "ready" : "not ready").append("\",\"checks\":{");
            boolean first = true;
            for (Map.Entry<String, String> e : checks.entrySet()) {
                sb.append(first ? "" : ",").append('"').append(e.getKey()).append("\":\"").append(e.getValue()).append('"');
                first = false;
            }
            return sb.append("}}").toString();
        }
    }

    private final List<Check> checks;
    private final Duration deadline;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<String, String> lastFailures = new java.util.concurrent.ConcurrentHashMap<>();

    public Readiness(List<Check> checks, Duration deadline) {
        this.checks = List.copyOf(checks);
        this.deadline = requireNonNull(deadline, "deadline is null");
    }

    /** Runs every check at once and waits for each at most the deadline. */
    public Report check() {
        List<Future<Optional<String>>> running = new ArrayList<>();
        for (Check c : checks) {
            running.add(executor.submit(() -> c.probe().failure()));
        }
        long until = System.nanoTime() + deadline.toNanos();
        boolean ready = true;
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < checks.size(); i++) {
            Check c = checks.get(i);
            Optional<String> failure;
            try {
                failure = running.get(i).get(Math.max(0, until - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                running.get(i).cancel(true);
                failure = Optional.of("no answer within " + deadline.toMillis() + " ms");
            } catch (ExecutionException e) {
                Throwable cause = e.getCause() == null ? e : e.getCause();
                failure = Optional.of(cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure = Optional.of("interrupted");
            }
            if (failure.isPresent()) {
                out.put(c.name(), c.required() ? "failed" : "degraded");
                ready &= !c.required();
                if (!failure.get().equals(lastFailures.put(c.name(), failure.get()))) {
                    LOG.warn("readiness: {} {}: {}", c.name(), c.required() ? "failed" : "degraded", failure.get());
                }
            } else {
                out.put(c.name(), "ok");
                if (lastFailures.remove(c.name()) != null) {
                    LOG.info("readiness: {} is ok again", c.name());
                }
            }
        }
        return new Report(ready, out);
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}

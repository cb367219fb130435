package dev.citadel.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;

/**
 * Drives one target with a fixed number of keep-alive connections, one thread each, for a warm-up
 * and then a measured period. Each connection sends its own pre-signed request over and over; a
 * call counts only if the status is 200 and the body holds the expected marker.
 */
final class LoadRun {
    /** What a run measured; {@code sortedNanos} holds the latency of every counted call (up to 2^20 per connection), ascending. */
    record Result(String target, long calls, long failures, double seconds, double p50Micros, double p99Micros, long reconnects,
            long[] sortedNanos) {
        double callsPerSecond() {
            return calls / seconds;
        }

        /** Several runs of one target as one: their calls, failures and seconds added, the percentiles of all their latencies. */
        static Result merge(String target, List<Result> runs) {
            long[] all = runs.stream().flatMapToLong(r -> Arrays.stream(r.sortedNanos())).sorted().toArray();
            return new Result(target, runs.stream().mapToLong(Result::calls).sum(), runs.stream().mapToLong(Result::failures).sum(),
                    runs.stream().mapToDouble(Result::seconds).sum(), percentile(all, 0.50) / 1000.0, percentile(all, 0.99) / 1000.0,
                    runs.stream().mapToLong(Result::reconnects).sum(), all);
        }
    }

    private LoadRun() {
    }

    static Result run(String target, String host, int port, SSLContext tls, IntFunction<byte[]> requestForConnection,
            byte[] marker, int connections, Duration warmup, Duration measure) throws InterruptedException {
        return run(target, () -> new HttpConnection(host, port, tls), requestForConnection, marker, connections, warmup, measure,
                Window.NONE);
    }

    /** Told when the measured period starts and when it ends (on the thread that runs the load). */
    interface Window {
        Window NONE = new Window() {
        };

        default void opened() {
        }

        default void closed() {
        }
    }

    /** As above, on connections {@code connect} makes (one per thread, not yet connected); {@code window} sees the measured period. */
    static Result run(String target, Supplier<HttpConnection> connect, IntFunction<byte[]> requestForConnection,
            byte[] marker, int connections, Duration warmup, Duration measure, Window window) throws InterruptedException {
        AtomicBoolean measuring = new AtomicBoolean(false);
        AtomicBoolean stop = new AtomicBoolean(false);
        long[][] latencies = new long[connections][];
        long[] calls = new long[connections];
        long[] failures = new long[connections];
        long[] reconnects = new long[connections];
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < connections; c++) {
            final int id = c;
            threads.add(Thread.ofPlatform().name("load-" + c).start(() -> {
                byte[] request = requestForConnection.apply(id);
                long[] lat = new long[1 << 20];
                int n = 0;
                try (HttpConnection conn = connect.get()) {
                    while (!stop.get()) {
                        long t0 = System.nanoTime();
                        boolean ok;
                        try {
                            HttpConnection.Response r = conn.send(request, marker);
                            ok = r.status() == 200 && r.matched();
                        } catch (java.io.IOException | RuntimeException e) {
                            ok = false;
                            conn.close();
                        }
                        long t1 = System.nanoTime();
                        if (measuring.get()) {
                            if (ok) {
                                calls[id]++;
                                if (n < lat.length) {
                                    lat[n++] = t1 - t0;
                                }
                            } else {
                                failures[id]++;
                            }
                        }
                    }
                    reconnects[id] = conn.reconnects;
                }
                latencies[id] = Arrays.copyOf(lat, n);
            }));
        }
        Thread.sleep(warmup.toMillis());
        window.opened();
        measuring.set(true);
        long start = System.nanoTime();
        Thread.sleep(measure.toMillis());
        measuring.set(false);
        double seconds = (System.nanoTime() - start) / 1e9;
        window.closed();
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        long total = Arrays.stream(calls).sum();
        long[] all = Arrays.stream(latencies).flatMapToLong(Arrays::stream).sorted().toArray();
        return new Result(target, total, Arrays.stream(failures).sum(), seconds, percentile(all, 0.50) / 1000.0,
                percentile(all, 0.99) / 1000.0, Arrays.stream(reconnects).sum(), all);
    }

    /** The value at rank floor(q × n) of the ascending {@code sorted} (NaN when empty). */
    static double percentile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))];
    }
}

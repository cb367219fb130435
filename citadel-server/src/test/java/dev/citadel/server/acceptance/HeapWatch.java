package dev.citadel.server.acceptance;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Watches the live heap of this JVM (where {@link dev.citadel.server.TestServer} runs Citadel)
 * while something streams: every interval it asks for a full collection and reads the used heap,
 * so that each sample is what is still reachable, not garbage waiting for the next young
 * collection. The baseline is taken the same way when the watch starts.
 */
final class HeapWatch implements AutoCloseable {
    private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();

    /** What a watch saw, in bytes of used heap after a full collection. */
    record Peak(long baseline, long peak, int samples) {
        long growth() {
            return peak - baseline;
        }

        @Override
        public String toString() {
            return String.format(java.util.Locale.ROOT, "used heap after GC: baseline %d MiB, peak %d MiB, growth %d MiB (%d samples)",
                    baseline >> 20, peak >> 20, growth() >> 20, samples);
        }
    }

    private final long baseline;
    private final AtomicLong peak = new AtomicLong();
    private final AtomicLong samples = new AtomicLong();
    private final Thread sampler;
    private volatile boolean running = true;

    private HeapWatch(Duration interval) {
        baseline = liveHeap();
        peak.set(baseline);
        sampler = Thread.ofPlatform().daemon().name("heap-watch").start(() -> {
            while (running) {
                try {
                    Thread.sleep(interval);
                } catch (InterruptedException e) {
                    return;
                }
                peak.accumulateAndGet(liveHeap(), Math::max);
                samples.incrementAndGet();
            }
        });
    }

    static HeapWatch start(Duration interval) {
        return new HeapWatch(interval);
    }

    /** Stops sampling (after one last sample) and returns what was seen. */
    Peak stop() {
        running = false;
        sampler.interrupt();
        try {
            sampler.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        peak.accumulateAndGet(liveHeap(), Math::max);
        return new Peak(baseline, peak.get(), (int) samples.get() + 1);
    }

    @Override
    public void close() {
        running = false;
        sampler.interrupt();
    }

    private static long liveHeap() {
        System.gc();
        return MEMORY.getHeapMemoryUsage().getUsed();
    }
}

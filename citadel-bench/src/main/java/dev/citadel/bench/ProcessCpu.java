package dev.citadel.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The CPU time (user and system) that named processes spend while a measured period is open,
 * each process alone or with all its descendants: read from {@code /proc/<pid>/stat} (fields
 * utime and stime, in clock ticks of 10 ms, Linux's USER_HZ) when the period opens and when it
 * closes, and added up over every period it saw. A descendant counts from the moment it is seen
 * at an opening; one that exits before the closing is not counted (the processes measured here,
 * a server, a serving container and the bridge's per-connection children, live for the whole
 * period).
 */
final class ProcessCpu implements LoadRun.Window {
    private static final long NANOS_PER_TICK = 10_000_000L;

    /** A process to watch: alone, or with every process it started and they started. */
    record Watched(long pid, boolean withDescendants) {
    }

    private final Map<String, Watched> pids;
    private final Map<String, Map<Long, Long>> atOpening = new LinkedHashMap<>();
    private final Map<String, Long> spent = new LinkedHashMap<>();

    /** @param pids the processes to watch, by the name to report them under */
    ProcessCpu(Map<String, Watched> pids) {
        this.pids = Map.copyOf(pids);
        pids.keySet().forEach(name -> spent.put(name, 0L));
    }

    @Override
    public void opened() {
        pids.forEach((name, w) -> atOpening.put(name, ticks(w)));
    }

    @Override
    public void closed() {
        pids.forEach((name, w) -> {
            Map<Long, Long> before = atOpening.getOrDefault(name, Map.of());
            long delta = 0;
            for (Map.Entry<Long, Long> now : ticks(w).entrySet()) {
                Long then = before.get(now.getKey());
                if (then != null) {
                    delta += now.getValue() - then;
                }
            }
            spent.merge(name, delta * NANOS_PER_TICK, Long::sum);
        });
    }

    /** CPU nanoseconds each named process (with its descendants) spent in the periods seen so far. */
    Map<String, Long> spentNanos() {
        return Map.copyOf(spent);
    }

    /** The ticks of a process (and of each of its descendants, if asked), by pid; empty when it is gone. */
    private static Map<Long, Long> ticks(Watched w) {
        Map<Long, Long> out = new LinkedHashMap<>();
        read(w.pid(), out);
        if (w.withDescendants()) {
            ProcessHandle.of(w.pid()).ifPresent(h -> h.descendants().forEach(d -> read(d.pid(), out)));
        }
        return out;
    }

    private static void read(long pid, Map<Long, Long> out) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.US_ASCII);
            // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            out.put(pid, Long.parseLong(f[11]) + Long.parseLong(f[12]));
        } catch (IOException | RuntimeException e) {
            // gone meanwhile
        }
    }
}

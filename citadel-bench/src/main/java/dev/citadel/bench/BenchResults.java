package dev.citadel.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * Machine-readable figures for {@code scripts/bench-all.sh}: when the environment names a file in
 * {@code BENCH_RESULTS}, each measured target is appended to it as one JSON line
 * ({@code {"bench":…,"target":…,"calls_per_s":…,"p50_ms":…,"p99_ms":…,"failed":…}}), which
 * {@code scripts/bench-table.py} turns into the ratio table of docs/BENCHMARKS.md. Without it
 * nothing is written.
 */
final class BenchResults {
    private static final ObjectMapper JSON = new ObjectMapper();

    private BenchResults() {
    }

    /** Appends one load-tool result under {@code bench} (the operation), if BENCH_RESULTS is set. */
    static void record(String bench, String targetKey, LoadRun.Result r) {
        String file = System.getenv("BENCH_RESULTS");
        if (file == null || file.isBlank()) {
            return;
        }
        ObjectNode n = JSON.createObjectNode();
        n.put("bench", bench);
        n.put("target", targetKey);
        n.put("calls_per_s", round(r.callsPerSecond()));
        n.put("p50_ms", round(r.p50Micros() / 1000));
        n.put("p99_ms", round(r.p99Micros() / 1000));
        n.put("failed", r.failures());
        n.put("cores", Runtime.getRuntime().availableProcessors());
        try {
            Files.writeString(Path.of(file), JSON.writeValueAsString(n) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to BENCH_RESULTS " + file, e);
        }
    }

    /** A short key for a target's label: citadel, citadel-session, citadel-no-audit, jetty, moto, direct. */
    static String key(String label) {
        String l = label.toLowerCase(Locale.ROOT);
        if (l.startsWith("bare")) {
            return "jetty";
        }
        if (l.startsWith("moto")) {
            return "moto";
        }
        if (l.contains("no-audit")) {
            return "citadel-no-audit";
        }
        if (l.contains("session")) {
            return "citadel-session";
        }
        return l.startsWith("citadel") ? "citadel" : l.split("[ (]", 2)[0];
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}

package dev.citadel.services.ecr.scan;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * PEP 440's order checked against the reference implementation, {@code packaging} (as vendored
 * by pip), on seeded random versions in many spellings. The seed is printed on failure;
 * {@code -Dcitadel.seed=N} repeats a run.
 */
class Pep440VersionTest {
    static final int PAIRS = 2000;
    private static final String COMPARE = """
            import sys
            from pip._vendor.packaging.version import Version
            for line in sys.stdin:
                a, b = line.rstrip("\\n").split("\\t")
                va, vb = Version(a), Version(b)
                print("<" if va < vb else "=" if va == vb else ">")
            """;

    @Test
    void randomPairsOrderAsPackagingOrdersThem() throws IOException, InterruptedException {
        long seed = Long.getLong("citadel.seed", 20261122L);
        Random r = new Random(seed);
        List<String[]> pairs = new ArrayList<>();
        StringBuilder input = new StringBuilder();
        for (int i = 0; i < PAIRS; i++) {
            String a = version(r);
            // half the pairs are near each other: another spelling of the same version, or a prefix of it
            String b = switch (r.nextInt(4)) {
                case 0 -> a.replace("a", "alpha").replace(".post", "-");
                case 1 -> a.substring(0, Math.max(1, a.length() - 1 - r.nextInt(Math.max(1, a.length() / 2))));
                default -> version(r);
            };
            b = Pep440Version.SCHEME.valid(b) ? b : a;
            pairs.add(new String[] {a, b});
            input.append(a).append('\t').append(b).append('\n');
        }
        Process p = new ProcessBuilder("python3", "-c", COMPARE).start();
        p.getOutputStream().write(input.toString().getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        List<String> answers = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(err).as("python3 with pip must be installed (apt-get install python3-pip); seed %d", seed).isEmpty();
        assertThat(answers).as("seed %d", seed).hasSize(PAIRS);
        for (int i = 0; i < PAIRS; i++) {
            String[] pair = pairs.get(i);
            assertThat(pair).allMatch(Pep440Version.SCHEME::valid);
            int c = Pep440Version.compare(pair[0], pair[1]);
            assertThat(c < 0 ? "<" : c == 0 ? "=" : ">").as("seed %d: %s vs %s", seed, pair[0], pair[1]).isEqualTo(answers.get(i));
        }
    }

    static String version(Random r) {
        StringBuilder v = new StringBuilder();
        if (r.nextInt(10) == 0) {
            v.append("v");
        }
        if (r.nextInt(8) == 0) {
            v.append(r.nextInt(3)).append('!');
        }
        int segments = 1 + r.nextInt(4);
        for (int i = 0; i < segments; i++) {
            v.append(i == 0 ? "" : ".").append(r.nextInt(6) == 0 ? "0" : String.valueOf(r.nextInt(13)));
        }
        if (r.nextInt(3) == 0) {
            v.append(pick(r, "", ".", "-", "_")).append(pick(r, "a", "b", "rc", "c", "alpha", "beta", "pre", "preview"));
            if (r.nextInt(4) > 0) {
                v.append(pick(r, "", ".", "-")).append(r.nextInt(12));
            }
        }
        if (r.nextInt(3) == 0) {
            if (r.nextBoolean()) {
                v.append('-').append(r.nextInt(12));
            } else {
                v.append(pick(r, "", ".", "-", "_")).append(pick(r, "post", "rev", "r")).append(r.nextBoolean() ? String.valueOf(r.nextInt(12)) : "");
            }
        }
        if (r.nextInt(4) == 0) {
            v.append(pick(r, "", ".", "-", "_")).append("dev").append(r.nextBoolean() ? String.valueOf(r.nextInt(12)) : "");
        }
        return r.nextInt(10) == 0 ? v.toString().toUpperCase(java.util.Locale.ROOT) : v.toString();
    }

    private static String pick(Random r, String... options) {
        return options[r.nextInt(options.length)];
    }
}

package dev.citadel.services.ecr.scan;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Debian's version order: a table of known cases (Debian Policy §5.6.12's examples, real bookworm
 * versions), and seeded random pairs checked against {@code dpkg --compare-versions} itself. The
 * seed is printed on failure; {@code -Dcitadel.seed=N} repeats a run.
 */
class DebianVersionTest {
    static final int PAIRS = 2000;

    @Test
    void knownPairsOrderAsDpkgOrdersThem() {
        String[][] ascending = {
                {"1~~", "1~~a", "1~", "1", "1a"}, // Policy: ~~ < ~~a < ~ < (nothing) < a
                {"1.0~rc1", "1.0", "1.0a", "1.0+b1", "1.0.1"},
                {"1.2.3", "1.10"},
                {"9", "10"},
                {"2.0", "1:1.0", "2:0.1"},
                {"1.0-1", "1.0-2", "1.0-10"},
                {"3.0.19-1~deb12u2", "3.0.19-1"},
                {"1.0-1~bpo11+1", "1.0-1", "1.0-1+b1"},
                {"2.36-9+deb12u13", "2.36-9+deb12u14"},
                {"1:1.2.11.dfsg-2+deb11u1", "1:1.2.11.dfsg-4", "1:1.2.13.dfsg-1"},
                {"1.34+dfsg-1.2", "1.34+dfsg-1.2+deb12u1"},
                {"7.6-0", "7.6p2-4"},
                {"5.2.15-2", "5.2.15-2+b8"},
        };
        for (String[] chain : ascending) {
            for (int i = 0; i + 1 < chain.length; i++) {
                assertThat(DebianVersion.compare(chain[i], chain[i + 1])).as("%s < %s", chain[i], chain[i + 1]).isNegative();
                assertThat(DebianVersion.compare(chain[i + 1], chain[i])).as("%s > %s", chain[i + 1], chain[i]).isPositive();
            }
        }
        String[][] equal = {{"1.0", "1.0-0"}, {"0:1.0", "1.0"}, {"1.00", "1.0"}, {"00:1.0", "1.0"}, {"1.0-0", "0:1.0-0"}};
        for (String[] pair : equal) {
            assertThat(DebianVersion.compare(pair[0], pair[1])).as("%s = %s", pair[0], pair[1]).isZero();
        }
    }

    @Test
    void validityFollowsPolicy() {
        assertThat(List.of("1.0", "1:2.3-4", "2.36-9+deb12u14", "1.0~rc1-1", "1:1.2.13.dfsg-1", "1:0.1:2-3", "1.0-a-b"))
                .allMatch(DebianVersion::valid);
        assertThat(List.of("", "a1.0", "1.0-", ":1.0", "x:1.0", "1.0 2", "1.0_1", "1:2:3-4-x_y", "1:0-1:2", "0.1:2-3")).noneMatch(DebianVersion::valid);
    }

    /** Random valid versions (epochs, digits, letters, ~ + . -), compared by this class and by dpkg in one shell run. */
    @Test
    void randomPairsOrderAsDpkgCompareVersionsSays(@TempDir Path dir) throws IOException, InterruptedException {
        long seed = Long.getLong("citadel.seed", 20261122L);
        Random r = new Random(seed);
        List<String[]> pairs = new ArrayList<>();
        for (int i = 0; i < PAIRS; i++) {
            String a = version(r);
            // a third of the pairs differ only a little, where ordering is most delicate
            String b = r.nextInt(3) == 0 ? mutate(a, r) : version(r);
            pairs.add(new String[] {a, b});
        }
        StringBuilder script = new StringBuilder("set -u\n");
        for (String[] p : pairs) {
            script.append("if dpkg --compare-versions '").append(p[0]).append("' lt '").append(p[1]).append("'; then echo '<'; ")
                    .append("elif dpkg --compare-versions '").append(p[0]).append("' eq '").append(p[1]).append("'; then echo '='; ")
                    .append("else echo '>'; fi\n");
        }
        Path file = Files.writeString(dir.resolve("compare.sh"), script);
        Process p = new ProcessBuilder("sh", file.toString()).redirectError(ProcessBuilder.Redirect.PIPE).start();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
        assertThat(err).as("dpkg must be installed (apt-get install dpkg) and accept every generated version; seed %d", seed).isEmpty();
        List<String> answers = new String(out, StandardCharsets.UTF_8).lines().toList();
        assertThat(answers).as("seed %d", seed).hasSize(PAIRS);
        for (int i = 0; i < PAIRS; i++) {
            String[] pair = pairs.get(i);
            assertThat(pair).allMatch(DebianVersion::valid);
            int c = DebianVersion.compare(pair[0], pair[1]);
            String ours = c < 0 ? "<" : c == 0 ? "=" : ">";
            assertThat(ours).as("seed %d: %s vs %s", seed, pair[0], pair[1]).isEqualTo(answers.get(i));
            int back = DebianVersion.compare(pair[1], pair[0]);
            assertThat(Integer.signum(back)).as("seed %d: antisymmetry of %s vs %s", seed, pair[0], pair[1]).isEqualTo(-Integer.signum(c));
        }
    }

    private static final String UPSTREAM_CHARS = "0123456789abcxyzABZ.+~";
    private static final String REVISION_CHARS = "0123456789abzAZ.+~";

    static String version(Random r) {
        StringBuilder v = new StringBuilder();
        boolean epoch = r.nextInt(4) == 0;
        if (epoch) {
            v.append(r.nextInt(3) == 0 ? "0" : "").append(r.nextInt(12)).append(':');
        }
        v.append(r.nextInt(20));
        int n = r.nextInt(8);
        for (int i = 0; i < n; i++) {
            v.append(r.nextInt(3) == 0 ? String.valueOf(r.nextInt(200)) : String.valueOf(UPSTREAM_CHARS.charAt(r.nextInt(UPSTREAM_CHARS.length()))));
        }
        if (r.nextInt(3) > 0) {
            if (r.nextInt(5) == 0) {
                v.append('-').append(r.nextInt(5)); // a hyphen inside the upstream part
            }
            v.append('-');
            int m = 1 + r.nextInt(6);
            for (int i = 0; i < m; i++) {
                v.append(r.nextInt(2) == 0 ? String.valueOf(r.nextInt(30)) : String.valueOf(REVISION_CHARS.charAt(r.nextInt(REVISION_CHARS.length()))));
            }
        }
        return v.toString();
    }

    /** {@code v} with one character inserted, appended or changed, kept valid. */
    static String mutate(String v, Random r) {
        for (int attempt = 0; attempt < 20; attempt++) {
            StringBuilder b = new StringBuilder(v);
            char c = "0123456789a~+.zZ".charAt(r.nextInt(16));
            int at = 1 + r.nextInt(b.length());
            switch (r.nextInt(3)) {
                case 0 -> b.insert(at, c);
                case 1 -> b.append(c);
                default -> b.setCharAt(at - 1, c);
            }
            String out = b.toString();
            if (DebianVersion.valid(out)) {
                return out;
            }
        }
        return v;
    }
}

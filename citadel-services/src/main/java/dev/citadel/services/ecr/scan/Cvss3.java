package dev.citadel.services.ecr.scan;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The CVSS v3.0/v3.1 base score of a vector such as
 * {@code CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H} (9.8), by the formula of the CVSS v3.1
 * specification §7.1 with its {@code Roundup} (§Appendix A), which v3.0 vectors also get.
 *
 * <p>The eight base metrics must each appear once; temporal and environmental metrics may follow
 * and are ignored (the base score is what a registry reports). Anything else — another version,
 * an unknown metric or value, a repeated one — is not a vector: empty.
 */
final class Cvss3 {
    private static final Set<String> OTHER_METRICS = Set.of("E", "RL", "RC", "CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC",
            "MI", "MA");

    private Cvss3() {
    }

    static Optional<Double> baseScore(String vector) {
        if (vector == null || vector.length() > 200 || !(vector.startsWith("CVSS:3.1/") || vector.startsWith("CVSS:3.0/"))) {
            return Optional.empty();
        }
        Map<String, String> m = new HashMap<>();
        for (String part : vector.substring(9).split("/", -1)) {
            int colon = part.indexOf(':');
            if (colon <= 0 || colon == part.length() - 1 || m.put(part.substring(0, colon), part.substring(colon + 1)) != null) {
                return Optional.empty();
            }
        }
        for (String k : m.keySet()) {
            if (!Set.of("AV", "AC", "PR", "UI", "S", "C", "I", "A").contains(k) && !OTHER_METRICS.contains(k)) {
                return Optional.empty();
            }
        }
        String scope = m.get("S");
        if (!"U".equals(scope) && !"C".equals(scope)) {
            return Optional.empty();
        }
        boolean changed = scope.equals("C");
        Double av = pick(m.get("AV"), "N", 0.85, "A", 0.62, "L", 0.55, "P", 0.2);
        Double ac = pick(m.get("AC"), "L", 0.77, "H", 0.44);
        Double pr = pick(m.get("PR"), "N", 0.85, "L", changed ? 0.68 : 0.62, "H", changed ? 0.5 : 0.27);
        Double ui = pick(m.get("UI"), "N", 0.85, "R", 0.62);
        Double c = pick(m.get("C"), "H", 0.56, "L", 0.22, "N", 0.0);
        Double i = pick(m.get("I"), "H", 0.56, "L", 0.22, "N", 0.0);
        Double a = pick(m.get("A"), "H", 0.56, "L", 0.22, "N", 0.0);
        if (av == null || ac == null || pr == null || ui == null || c == null || i == null || a == null) {
            return Optional.empty();
        }
        double iss = 1 - (1 - c) * (1 - i) * (1 - a);
        double impact = changed ? 7.52 * (iss - 0.029) - 3.25 * Math.pow(iss - 0.02, 15) : 6.42 * iss;
        double exploitability = 8.22 * av * ac * pr * ui;
        if (impact <= 0) {
            return Optional.of(0.0);
        }
        double base = changed ? Math.min(1.08 * (impact + exploitability), 10) : Math.min(impact + exploitability, 10);
        return Optional.of(roundUp(base));
    }

    /** CVSS v3.1's Roundup: the smallest number with one decimal that is at least {@code x}, free of floating-point noise. */
    static double roundUp(double x) {
        long scaled = Math.round(x * 100_000);
        if (scaled % 10_000 == 0) {
            return scaled / 100_000.0;
        }
        return (Math.floorDiv(scaled, 10_000) + 1) / 10.0;
    }

    private static Double pick(String value, Object... table) {
        for (int k = 0; k < table.length; k += 2) {
            if (table[k].equals(value)) {
                return (Double) table[k + 1];
            }
        }
        return null;
    }
}

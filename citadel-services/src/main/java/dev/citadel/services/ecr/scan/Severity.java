package dev.citadel.services.ecr.scan;

import java.util.Locale;
import java.util.Optional;

/**
 * A finding's severity in ECR's basic-scan terms ({@code ImageScanFinding.severity}), most severe
 * first.
 */
public enum Severity {
    CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNDEFINED;

    /** From a CVSS base score: 9.0+ critical, 7.0+ high, 4.0+ medium, 0.1+ low, 0 informational. */
    public static Severity ofScore(double score) {
        if (score >= 9.0) {
            return CRITICAL;
        }
        if (score >= 7.0) {
            return HIGH;
        }
        if (score >= 4.0) {
            return MEDIUM;
        }
        return score >= 0.1 ? LOW : INFORMATIONAL;
    }

    /**
     * From a database's own word for it: GitHub's {@code CRITICAL/HIGH/MODERATE/LOW}, Debian's
     * urgency ({@code unimportant/low/medium/high}, a trailing {@code *} meaning "guessed"),
     * Ubuntu's priority ({@code negligible … critical}). Words that do not rate the issue
     * ({@code not yet assigned}, {@code end-of-life}) give empty.
     */
    public static Optional<Severity> ofLabel(String label) {
        String l = label.strip().replaceAll("\\*+$", "").toLowerCase(Locale.ROOT);
        return switch (l) {
            case "critical" -> Optional.of(CRITICAL);
            case "high", "important" -> Optional.of(HIGH);
            case "medium", "moderate" -> Optional.of(MEDIUM);
            case "low" -> Optional.of(LOW);
            case "unimportant", "negligible", "informational", "none" -> Optional.of(INFORMATIONAL);
            default -> Optional.empty();
        };
    }
}

package dev.citadel.services.ecr.scan;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The outcome of scanning one image. {@code findings} are ordered most severe first, then by name,
 * package and version, and hold at most {@link VulnerabilityScanner#MAX_FINDINGS}
 * ({@code truncated} says whether there were more); {@code severityCounts} counts every finding,
 * including those cut off, by severity name, with only the severities that occur (ECR's
 * {@code findingSeverityCounts}). {@code inventory} says what was found to scan: when it is not
 * {@link Inventory#supported()}, ECR's basic scan reports {@code UnsupportedImageError}.
 * {@code vulnerabilitySourceUpdatedAt} is when the advisories last changed.
 */
public record ScanResult(List<Finding> findings, Map<String, Integer> severityCounts, boolean truncated, Inventory inventory,
                         Optional<Instant> vulnerabilitySourceUpdatedAt) {
    public ScanResult {
        findings = List.copyOf(findings);
        severityCounts = Collections.unmodifiableMap(new LinkedHashMap<>(severityCounts));
        requireNonNull(inventory, "inventory is null");
        requireNonNull(vulnerabilitySourceUpdatedAt, "vulnerabilitySourceUpdatedAt is null");
    }
}

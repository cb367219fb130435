package dev.citadel.services.ecr.scan;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.SequencedMap;

/**
 * One finding, in the shape of ECR's {@code ImageScanFinding}: {@code name} (usually a CVE id),
 * {@code description}, {@code uri}, {@code severity} and {@code attributes} in order —
 * {@code package_name}, {@code package_version} (for OS packages the source package and its
 * version, which the advisories name), then {@code CVSS3_SCORE} and {@code CVSS3_VECTOR} when the
 * advisory has a CVSS v3 vector. Attribute values are 1 to 256 characters, as ECR's are.
 */
public record Finding(String name, String description, String uri, Severity severity, SequencedMap<String, String> attributes) {
    public Finding {
        requireNonNull(name, "name is null");
        requireNonNull(description, "description is null");
        requireNonNull(uri, "uri is null");
        requireNonNull(severity, "severity is null");
        attributes = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(attributes));
        for (var e : attributes.entrySet()) {
            if (e.getKey().isEmpty() || e.getKey().length() > 128 || e.getValue().isEmpty() || e.getValue().length() > 256) {
                throw new IllegalArgumentException("attribute " + e.getKey() + " does not fit ECR's limits");
            }
        }
    }

    public String packageName() {
        return attributes.get("package_name");
    }

    public String packageVersion() {
        return attributes.get("package_version");
    }
}

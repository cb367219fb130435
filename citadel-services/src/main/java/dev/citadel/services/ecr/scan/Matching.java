package dev.citadel.services.ecr.scan;

import dev.citadel.services.ecr.scan.OsvAdvisory.Affected;
import dev.citadel.services.ecr.scan.OsvAdvisory.Event;
import dev.citadel.services.ecr.scan.OsvAdvisory.EventKind;
import dev.citadel.services.ecr.scan.OsvAdvisory.Range;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * How an OSV advisory applies to a package: which ecosystems and names match, whether a version
 * is affected, and what the finding says (name, severity, link, CVSS).
 */
final class Matching {
    static final int MAX_DESCRIPTION = 4096;
    static final int MAX_URI = 2048;

    private Matching() {
    }

    /** The ecosystem without its release: {@code Debian:12} → {@code Debian}. */
    static String base(String ecosystem) {
        int colon = ecosystem.indexOf(':');
        return colon < 0 ? ecosystem : ecosystem.substring(0, colon);
    }

    /** An advisory for {@code Debian:12} applies to packages of {@code Debian:12}; one for plain {@code Debian} to every release. */
    static boolean ecosystemMatches(String advisoryEcosystem, String packageEcosystem) {
        return advisoryEcosystem.equals(packageEcosystem) || advisoryEcosystem.equals(base(packageEcosystem));
    }

    /** The name under which an ecosystem's packages and advisories are compared (PyPI's are PEP 503-normalised). */
    static String indexName(String ecosystem, String name) {
        return base(ecosystem).equals("PyPI") ? PythonMetadata.normalise(name) : name;
    }

    /**
     * Whether {@code version} is affected: listed in {@code versions}, or inside one of the
     * {@code ECOSYSTEM} ranges, evaluated as the OSV schema says — events in version order
     * ({@code introduced: "0"} first), {@code introduced} opens, {@code fixed} closes at its
     * version, {@code last_affected} after its version; {@code limit} bounds the whole range.
     * A range with an event the ecosystem's order cannot read is skipped; {@code SEMVER} and
     * {@code GIT} ranges are not evaluated (the ecosystems scanned use {@code ECOSYSTEM}).
     */
    static boolean affects(Affected affected, String version, VersionScheme scheme) {
        if (affected.versions().contains(version)) {
            return true;
        }
        if (!scheme.valid(version)) {
            return false;
        }
        for (String listed : affected.versions()) {
            if (scheme.valid(listed) && scheme.compare(listed, version) == 0) {
                return true;
            }
        }
        for (Range r : affected.ranges()) {
            if (r.type().equals("ECOSYSTEM") && inRange(r, version, scheme)) {
                return true;
            }
        }
        return false;
    }

    private static boolean inRange(Range r, String v, VersionScheme scheme) {
        List<Event> events = new ArrayList<>();
        boolean fromZero = false;
        for (Event e : r.events()) {
            if (e.kind() == EventKind.INTRODUCED && e.version().equals("0")) {
                fromZero = true; // sorts before every version
                continue;
            }
            if (!scheme.valid(e.version())) {
                return false;
            }
            if (e.kind() == EventKind.LIMIT) {
                if (scheme.compare(v, e.version()) >= 0) {
                    return false;
                }
            } else {
                events.add(e);
            }
        }
        try {
            events.sort((x, y) -> {
                int c = scheme.compare(x.version(), y.version());
                return c != 0 ? c : Boolean.compare(x.kind() != EventKind.INTRODUCED, y.kind() != EventKind.INTRODUCED);
            });
        } catch (IllegalArgumentException e) {
            // the order is not transitive on these versions (Maven's can fail so on odd strings): keep the advisory's
            // own order, which the OSV schema asks writers to sort already
        }
        boolean vulnerable = fromZero;
        for (Event e : events) {
            int c = scheme.compare(v, e.version());
            switch (e.kind()) {
                case INTRODUCED -> vulnerable |= c >= 0;
                case FIXED -> vulnerable &= c < 0;
                case LAST_AFFECTED -> vulnerable &= c <= 0;
                case LIMIT -> throw new IllegalStateException("limits are applied before");
            }
        }
        return vulnerable;
    }

    /**
     * The severity of {@code advisory} where it affects {@code affected}: the affected entry's own
     * rating ({@code ecosystem_specific.urgency} of Debian, {@code database_specific.severity}),
     * else the advisory's {@code database_specific.severity}, else its CVSS v3 base score, else
     * {@code UNDEFINED}.
     */
    static Severity severity(OsvAdvisory advisory, Affected affected) {
        return affected.ecosystemSeverity().flatMap(Severity::ofLabel)
                .or(() -> advisory.databaseSeverity().flatMap(Severity::ofLabel))
                .or(() -> cvss(advisory, affected).map(c -> Severity.ofScore(c.score())))
                .orElse(Severity.UNDEFINED);
    }

    record Cvss(double score, String vector) {
    }

    /** The first CVSS v3 vector of the affected entry, else of the advisory, that scores. */
    static Optional<Cvss> cvss(OsvAdvisory advisory, Affected affected) {
        for (List<OsvAdvisory.Score> scores : List.of(affected.severity(), advisory.severity())) {
            for (OsvAdvisory.Score s : scores) {
                if (s.type().equals("CVSS_V3")) {
                    Optional<Double> score = Cvss3.baseScore(s.score());
                    if (score.isPresent()) {
                        return Optional.of(new Cvss(score.get(), s.score()));
                    }
                }
            }
        }
        return Optional.empty();
    }

    /** The finding's name: the CVE the advisory is about when it names exactly one (its id, an alias or its upstream), else its id. */
    static String findingName(OsvAdvisory advisory) {
        if (advisory.id().startsWith("CVE-")) {
            return advisory.id();
        }
        Set<String> cves = new LinkedHashSet<>();
        for (String alias : advisory.aliases()) {
            if (alias.startsWith("CVE-")) {
                cves.add(alias);
            }
        }
        if (cves.isEmpty()) {
            for (String up : advisory.upstream()) {
                if (up.startsWith("CVE-")) {
                    cves.add(up);
                }
            }
        }
        return cves.size() == 1 ? cves.iterator().next() : advisory.id();
    }

    /** The advisory's own page: its first {@code ADVISORY} reference, else its first reference, else osv.dev's page for it. */
    static String uri(OsvAdvisory advisory) {
        Optional<String> first = advisory.references().stream().filter(r -> r.type().equals("ADVISORY")).map(OsvAdvisory.Reference::url)
                .filter(Matching::webAddress).findFirst();
        return first.or(() -> advisory.references().stream().map(OsvAdvisory.Reference::url).filter(Matching::webAddress).findFirst())
                .orElse("https://osv.dev/vulnerability/" + advisory.id());
    }

    private static boolean webAddress(String url) {
        return (url.startsWith("https://") || url.startsWith("http://")) && url.length() <= MAX_URI
                && url.chars().allMatch(c -> c > ' ' && c < 127);
    }

    /** The advisory's details, else its summary, cut to {@value #MAX_DESCRIPTION} characters. */
    static String description(OsvAdvisory advisory) {
        String d = advisory.details().isBlank() ? advisory.summary().strip() : advisory.details().strip();
        return d.length() <= MAX_DESCRIPTION ? d : d.substring(0, MAX_DESCRIPTION - 1) + "…";
    }
}

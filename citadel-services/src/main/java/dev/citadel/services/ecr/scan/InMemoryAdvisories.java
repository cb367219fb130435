package dev.citadel.services.ecr.scan;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** A fixed set of advisories held in memory, indexed as the stored database is. */
public final class InMemoryAdvisories implements AdvisorySource {
    private final Map<String, List<OsvAdvisory>> byKey = new HashMap<>();
    private final Optional<Instant> updatedAt;

    public InMemoryAdvisories(List<OsvAdvisory> advisories) {
        Instant latest = null;
        for (OsvAdvisory a : advisories) {
            for (OsvAdvisory.Affected af : a.affected()) {
                List<OsvAdvisory> list = byKey.computeIfAbsent(af.ecosystem() + "\n" + Matching.indexName(af.ecosystem(), af.name()),
                        k -> new ArrayList<>());
                if (!list.contains(a)) {
                    list.add(a);
                }
            }
            latest = latest == null || a.modified().isAfter(latest) ? a.modified() : latest;
        }
        this.updatedAt = Optional.ofNullable(latest);
    }

    @Override
    public List<OsvAdvisory> advisories(Set<String> ecosystems, Set<String> names) {
        Set<OsvAdvisory> out = new LinkedHashSet<>();
        for (String e : ecosystems) {
            for (String n : names) {
                out.addAll(byKey.getOrDefault(e + "\n" + n, List.of()));
            }
        }
        return List.copyOf(out);
    }

    @Override
    public Optional<Instant> updatedAt() {
        return updatedAt;
    }
}

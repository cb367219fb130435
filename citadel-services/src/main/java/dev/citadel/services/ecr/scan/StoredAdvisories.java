package dev.citadel.services.ecr.scan;

import static java.util.Objects.requireNonNull;

import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.ecr.VulnerabilityRepository;
import dev.citadel.metadata.ecr.VulnerabilityRepository.StoredAdvisory;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The advisories the operator imported ({@link VulnerabilityImport}), read from the metadata
 * store for each scan. A stored document that no longer parses (it passed the same parser when it
 * was imported) is left out rather than failing the scan.
 */
public final class StoredAdvisories implements AdvisorySource {
    private final MetadataStore store;

    public StoredAdvisories(MetadataStore store) {
        this.store = requireNonNull(store, "store is null");
    }

    @Override
    public List<OsvAdvisory> advisories(Set<String> ecosystems, Set<String> names) {
        List<StoredAdvisory> rows = store.read(h -> new VulnerabilityRepository(h).naming(ecosystems, names));
        List<OsvAdvisory> out = new ArrayList<>(rows.size());
        for (StoredAdvisory row : rows) {
            try {
                out.add(OsvAdvisory.parse(row.document().getBytes(StandardCharsets.UTF_8)));
            } catch (OsvAdvisory.InvalidAdvisoryException e) {
                // imported by an older parser that accepted it; it cannot be matched now
            }
        }
        return out;
    }

    @Override
    public Optional<Instant> updatedAt() {
        return store.read(h -> new VulnerabilityRepository(h).lastImport());
    }
}

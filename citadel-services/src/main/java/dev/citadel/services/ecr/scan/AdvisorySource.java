package dev.citadel.services.ecr.scan;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Where the scanner finds advisories: the imported database ({@link StoredAdvisories}), or a fixed set ({@link InMemoryAdvisories}). */
public interface AdvisorySource {
    /**
     * Every advisory that names, in one of {@code ecosystems}, a package whose
     * {@link Matching#indexName index name} is in {@code names}. It may return more; the scanner
     * checks each affected entry again.
     */
    List<OsvAdvisory> advisories(Set<String> ecosystems, Set<String> names);

    /** When the advisories last changed (ECR's {@code vulnerabilitySourceUpdatedAt}); empty for an empty database. */
    Optional<Instant> updatedAt();
}

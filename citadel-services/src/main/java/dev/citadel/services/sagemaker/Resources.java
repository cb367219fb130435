package dev.citadel.services.sagemaker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.SecretSealer;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.sagemaker.ResourceRepository;
import dev.citadel.metadata.sagemaker.ResourceRepository.Kind;
import dev.citadel.metadata.sagemaker.ResourceRepository.Resource;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.UnaryOperator;

/** Stored models, endpoint configurations, endpoints, algorithms and model packages: their sealed bodies and compare-and-set changes. */
final class Resources {
    private final MetadataStore store;
    private final SealedJson sealed;
    final Clock clock;

    Resources(MetadataStore store, SecretSealer sealer, Clock clock) {
        this.store = store;
        this.sealed = new SealedJson(sealer);
        this.clock = clock;
    }

    private static String context(Kind kind, String account, String name) {
        return "sagemaker/" + kind.name().toLowerCase(Locale.ROOT) + "/" + account + "/" + name;
    }

    byte[] seal(Kind kind, String account, String name, ObjectNode body) {
        return sealed.seal(body, context(kind, account, name));
    }

    ObjectNode body(Resource r) {
        return sealed.open(r.bodySealed(), context(r.kind(), r.accountId(), r.name()));
    }

    Optional<Resource> find(String account, Kind kind, String name) {
        return store.read(h -> new ResourceRepository(h).resource(account, kind, name));
    }

    List<Resource> list(String account, Kind kind) {
        return store.read(h -> new ResourceRepository(h).resources(account, kind));
    }

    List<Resource> all(Kind kind) {
        return store.read(h -> new ResourceRepository(h).all(kind));
    }

    /** Every account's resources of one kind still being validated ({@code Pending} or {@code InProgress}). */
    List<Resource> inValidation(Kind kind) {
        return store.read(h -> new ResourceRepository(h).inStatus(kind, "Pending", "InProgress"));
    }

    void insert(Resource r) {
        store.useTransaction(h -> new ResourceRepository(h).insert(r));
    }

    boolean delete(String account, Kind kind, String name) {
        return store.inTransaction(h -> new ResourceRepository(h).delete(account, kind, name));
    }

    /** Applies {@code change} if the resource's status has not moved meanwhile (retried); empty when gone or {@code change} gave null. */
    Optional<Resource> change(String account, Kind kind, String name, UnaryOperator<Resource> change) {
        for (int attempt = 0; attempt < 5; attempt++) {
            Resource current = find(account, kind, name).orElse(null);
            if (current == null) {
                return Optional.empty();
            }
            Resource next = change.apply(current);
            if (next == null) {
                return Optional.empty();
            }
            if (store.inTransaction(h -> new ResourceRepository(h).update(next, current.status()))) {
                return Optional.of(next);
            }
        }
        throw new IllegalStateException(kind + " " + name + " keeps changing");
    }
}

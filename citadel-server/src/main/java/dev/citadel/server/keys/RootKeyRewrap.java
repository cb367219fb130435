package dev.citadel.server.keys;

import dev.citadel.core.SecretBytes;
import dev.citadel.core.SecretSealer;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.services.accounts.AccountDirectory;
import dev.citadel.services.iam.MfaVerifier;
import dev.citadel.services.kms.KmsKeys;
import java.util.List;
import java.util.function.Function;

/**
 * Moves every secret sealed under one root key to another (from the key file into a PKCS#11
 * token, or back): KMS key material, and any secret access key or MFA seed still sealed directly
 * under the root key (those stored as sealed blobs follow their KMS key), each unsealed
 * with the old sealer and sealed with the new under the same context, all in one transaction, so
 * that a failure leaves everything as it was. Session tokens are not stored; those issued before
 * stop opening once the server starts on the new key. Run it with the server stopped.
 */
public final class RootKeyRewrap {
    /** How many values of each kind were re-sealed. */
    public record Counts(int accessKeys, int mfaSeeds, int kmsKeyVersions) {
    }

    private record Table(String table, String keyColumns, String sealedColumn, Function<java.util.Map<String, Object>, String> context) {
    }

    private static final List<Table> TABLES = List.of(
            new Table("iam_access_keys", "access_key_id", "secret_sealed", r -> AccountDirectory.sealContext((String) r.get("access_key_id"))),
            new Table("iam_mfa_devices", "serial_number", "seed_sealed", r -> MfaVerifier.sealContext((String) r.get("serial_number"))),
            new Table("kms_key_versions", "key_id, version", "material_sealed",
                    r -> KmsKeys.sealContext((String) r.get("key_id"), ((Number) r.get("version")).intValue())));

    private RootKeyRewrap() {
    }

    public static Counts run(MetadataStore store, SecretSealer from, SecretSealer to) {
        int[] counts = new int[TABLES.size()];
        store.useTransaction(h -> {
            for (int i = 0; i < TABLES.size(); i++) {
                Table t = TABLES.get(i);
                List<java.util.Map<String, Object>> rows = h.createQuery("SELECT " + t.keyColumns() + ", " + t.sealedColumn() + " FROM " + t.table())
                        .mapToMap().list();
                for (java.util.Map<String, Object> row : rows) {
                    if (dev.citadel.services.kms.EnvelopeSecretSealer.isEnvelope((byte[]) row.get(t.sealedColumn()))) {
                        // Sealed under a KMS key, whose material is re-sealed below: nothing to do here.
                        continue;
                    }
                    String context = t.context().apply(row);
                    SecretBytes secret = from.unseal((byte[]) row.get(t.sealedColumn()), context);
                    byte[] resealed = to.seal(secret, context);
                    secret.destroy();
                    var update = h.createUpdate("UPDATE " + t.table() + " SET " + t.sealedColumn() + " = :sealed WHERE "
                            + String.join(" AND ", java.util.Arrays.stream(t.keyColumns().split(",\\s*")).map(c -> c + " = :" + c).toList()))
                            .bind("sealed", resealed);
                    for (String c : t.keyColumns().split(",\\s*")) {
                        update.bind(c, row.get(c));
                    }
                    if (update.execute() != 1) {
                        throw new IllegalStateException("a row of " + t.table() + " changed during the re-wrap");
                    }
                    counts[i]++;
                }
            }
        });
        return new Counts(counts[0], counts[1], counts[2]);
    }
}

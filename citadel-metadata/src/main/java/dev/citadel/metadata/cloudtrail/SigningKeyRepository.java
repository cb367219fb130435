package dev.citadel.metadata.cloudtrail;

import static dev.citadel.metadata.internal.Sql.execute;
import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import org.jdbi.v3.core.Handle;

/** The keys that sign CloudTrail digest files. */
public final class SigningKeyRepository {
    /** @param publicKey PKCS#1 RSAPublicKey DER; @param privateSealed the PKCS#8 private key, sealed */
    public record SigningKey(String fingerprint, String region, byte[] publicKey, byte[] privateSealed, Instant validFrom, Instant validTo) {
    }

    private final Handle h;

    public SigningKeyRepository(Handle handle) {
        this.h = requireNonNull(handle, "handle is null");
    }

    public void insert(SigningKey k) {
        execute(h.createUpdate("INSERT INTO cloudtrail_signing_keys (fingerprint, region, public_key, private_sealed, valid_from, valid_to) "
                        + "VALUES (:f, :r, :pub, :priv, :from, :to)")
                .bind("f", k.fingerprint()).bind("r", k.region()).bind("pub", k.publicKey()).bind("priv", k.privateSealed())
                .bind("from", k.validFrom().toEpochMilli()).bind("to", k.validTo().toEpochMilli()));
    }

    /** The region's keys valid at some time between {@code start} and {@code end}, oldest first. */
    public List<SigningKey> validBetween(String region, Instant start, Instant end) {
        return h.createQuery("SELECT * FROM cloudtrail_signing_keys WHERE region = :r AND valid_from <= :end AND valid_to >= :start "
                        + "ORDER BY valid_from")
                .bind("r", region).bind("start", start.toEpochMilli()).bind("end", end.toEpochMilli())
                .map((rs, ctx) -> new SigningKey(rs.getString("fingerprint"), rs.getString("region"), rs.getBytes("public_key"),
                        rs.getBytes("private_sealed"), Instant.ofEpochMilli(rs.getLong("valid_from")), Instant.ofEpochMilli(rs.getLong("valid_to"))))
                .list();
    }
}

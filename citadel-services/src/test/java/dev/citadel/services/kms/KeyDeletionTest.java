package dev.citadel.services.kms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.MetadataConfig;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.pipeline.ConnectionInfo;
import dev.citadel.pipeline.Principal;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.authz.AuthorizationDecision;
import dev.citadel.services.accounts.AccountDirectory;
import dev.citadel.services.TestSupport;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Crypto-shredding: once a key's deletion date passes, its material is destroyed and what was sealed under it is gone for good. */
class KeyDeletionTest {
    @TempDir
    Path dir;
    private MetadataStore store;
    private final TestSupport.MovableClock clock = new TestSupport.MovableClock();
    private KmsKeys keys;
    private KmsService kms;
    private RequestContext ctx;

    @BeforeEach
    void setUp() {
        store = MetadataStore.open(MetadataConfig.embedded(dir));
        TestSupport.MarkingSealer sealer = new TestSupport.MarkingSealer();
        AccountDirectory directory = new AccountDirectory(store, sealer, new SecureRandom(), clock);
        Principal admin = directory.resolveAccessKey(directory.createOrganization("ops@example.com", "admin").accessKeyId())
                .orElseThrow().principal();
        keys = new KmsKeys(store, sealer, new SecureRandom(), clock);
        kms = new KmsService(keys, request -> AuthorizationDecision.allow());
        ctx = new RequestContext("r", clock.now, "us-east-1", KmsService.DEFINITION, kms.operations().getFirst().spec(), admin,
                new ConnectionInfo("127.0.0.1", "TLSv1.3", "TLS_AES_128_GCM_SHA256", ""), "test");
    }

    @AfterEach
    void tearDown() {
        store.close();
    }

    private static ObjectNode input() {
        return JsonNodeFactory.instance.objectNode();
    }

    @Test
    void aDeletedKeysMaterialIsDestroyedAndItsCiphertextsAreUnrecoverable() {
        String keyId = kms.createKey(ctx, input()).path("KeyMetadata").path("KeyId").asText();
        String plaintext = Base64.getEncoder().encodeToString("model weights".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String blob = kms.encrypt(ctx, input().put("KeyId", keyId).put("Plaintext", plaintext)).path("CiphertextBlob").asText();
        assertThat(kms.decrypt(ctx, input().put("CiphertextBlob", blob)).path("Plaintext").asText()).isEqualTo(plaintext);

        JsonNode scheduled = kms.scheduleKeyDeletion(ctx, input().put("KeyId", keyId).put("PendingWindowInDays", 7));
        assertThat(scheduled.path("KeyState").asText()).isEqualTo("PendingDeletion");
        assertThatThrownBy(() -> kms.decrypt(ctx, input().put("CiphertextBlob", blob)))
                .isInstanceOfSatisfying(AwsException.class, e -> assertThat(e.code()).isEqualTo("KMSInvalidStateException"));

        clock.now = clock.now.plus(Duration.ofDays(7)).minusSeconds(1);
        assertThat(keys.purge()).as("not due yet").isZero();
        clock.now = clock.now.plusSeconds(1);
        assertThat(keys.purge()).isEqualTo(1);

        assertThat(store.<Integer>read(h -> h.createQuery("SELECT COUNT(*) FROM kms_key_versions WHERE key_id = :k").bind("k", keyId)
                .mapTo(Integer.class).one())).as("no sealed material left").isZero();
        assertThat(store.<Integer>read(h -> h.createQuery("SELECT COUNT(*) FROM kms_keys WHERE key_id = :k").bind("k", keyId)
                .mapTo(Integer.class).one())).isZero();
        assertThat(keys.material(keyId, 1, "AES")).as("nothing cached either").isEmpty();
        assertThatThrownBy(() -> kms.decrypt(ctx, input().put("CiphertextBlob", blob)))
                .isInstanceOfSatisfying(AwsException.class, e -> assertThat(e.code()).isEqualTo("InvalidCiphertextException"));
        assertThatThrownBy(() -> kms.describeKey(ctx, input().put("KeyId", keyId)))
                .isInstanceOfSatisfying(AwsException.class, e -> assertThat(e.code()).isEqualTo("NotFoundException"));
    }

    @Test
    void automaticRotationAddsAVersionWhenDueAndOldCiphertextsStillOpen() {
        String keyId = kms.createKey(ctx, input()).path("KeyMetadata").path("KeyId").asText();
        String plaintext = Base64.getEncoder().encodeToString(new byte[] {1, 2, 3});
        String before = kms.encrypt(ctx, input().put("KeyId", keyId).put("Plaintext", plaintext)).path("CiphertextBlob").asText();
        kms.setRotation(ctx, input().put("KeyId", keyId).put("RotationPeriodInDays", 90), true);
        clock.now = clock.now.plus(Duration.ofDays(91));
        String after = kms.encrypt(ctx, input().put("KeyId", keyId).put("Plaintext", plaintext)).path("CiphertextBlob").asText();
        assertThat(CiphertextBlob.parse(Base64.getDecoder().decode(before)).orElseThrow().keyVersion()).isEqualTo(1);
        assertThat(CiphertextBlob.parse(Base64.getDecoder().decode(after)).orElseThrow().keyVersion()).isEqualTo(2);
        assertThat(kms.decrypt(ctx, input().put("CiphertextBlob", before)).path("Plaintext").asText()).isEqualTo(plaintext);
        assertThat(kms.decrypt(ctx, input().put("CiphertextBlob", after)).path("Plaintext").asText()).isEqualTo(plaintext);
    }
}

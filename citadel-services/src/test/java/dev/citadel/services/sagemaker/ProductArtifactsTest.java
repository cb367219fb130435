package dev.citadel.services.sagemaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.POJONode;
import dev.citadel.core.AccountId;
import dev.citadel.core.AwsException;
import dev.citadel.pipeline.Principal;
import dev.citadel.pipeline.protocol.S3Routes;
import dev.citadel.wire.EncodedResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sealed artifact of a listing: made with the seller's data key, opened only with what KMS
 * (here a fake that stands for the pipeline) decrypts for the launcher, bound to its listing and
 * product.
 */
class ProductArtifactsTest {
    private static final String SELLER = "111122223333";
    private static final String KEY = "arn:aws:kms:us-east-1:" + SELLER + ":key/0000aaaa-0000-4000-8000-000000000001";
    private static final String PRODUCT = "arn:aws:sagemaker:us-east-1:" + SELLER + ":model-package/logistic";
    private static final String LISTING = "lst-00112233445566778899";
    private static final Principal SELLER_ADMIN = new Principal("IAMUser", new AccountId(SELLER), "AIDAEXAMPLE", "arn:aws:iam::" + SELLER
            + ":user/admin", "admin", "AKIAEXAMPLE");

    @TempDir
    Path dir;

    /** KMS and S3 as the pipeline would answer them; records who asked what. */
    private final Map<String, byte[]> dataKeys = new HashMap<>();
    private final List<String> calls = new ArrayList<>();
    private byte[] object = "model.tar.gz bytes: the seller's secret weights".repeat(50_000).getBytes(StandardCharsets.UTF_8);
    private AwsException refuseDecrypt;
    private final SecureRandom random = new SecureRandom();

    private final JobData.Invoker invoker = (principal, service, operation, input) -> {
        calls.add(principal.type() + " " + principal.arn() + " " + principal.account().value() + " " + service + ":" + operation + " "
                + input.path("EncryptionContext"));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        switch (operation) {
            case "GenerateDataKey" -> {
                byte[] key = new byte[32];
                random.nextBytes(key);
                String wrapped = Base64.getEncoder().encodeToString(("wrapped-" + dataKeys.size()).getBytes(StandardCharsets.UTF_8));
                dataKeys.put(wrapped + input.path("EncryptionContext"), key);
                out.put("Plaintext", Base64.getEncoder().encodeToString(key)).put("CiphertextBlob", wrapped);
            }
            case "Decrypt" -> {
                if (refuseDecrypt != null) {
                    throw refuseDecrypt;
                }
                byte[] key = dataKeys.get(input.path("CiphertextBlob").asText() + input.path("EncryptionContext"));
                if (key == null) {
                    throw new AwsException("InvalidCiphertextException", 400, "");
                }
                out.put("Plaintext", Base64.getEncoder().encodeToString(key));
            }
            case "GetObject" -> {
                if (object == null) {
                    throw new AwsException("AccessDenied", 403, "Access Denied");
                }
                out.set(S3Routes.ENCODED, new POJONode(EncodedResponse.of(200, "binary/octet-stream", object)));
            }
            default -> throw new IllegalStateException(operation);
        }
        return out;
    };

    private ProductArtifacts artifacts() {
        return new ProductArtifacts(dir.resolve("marketplace"), invoker);
    }

    @Test
    void theArtifactOpensWithTheDataKeyTheLauncherHasDecryptedAndIsStoredOnlySealed() throws Exception {
        ProductArtifacts a = artifacts();
        ProductArtifacts.Sealed sealed = a.seal(SELLER_ADMIN, KEY, PRODUCT, LISTING, "seller-products", "models/model.tar.gz");
        Path file = dir.resolve("marketplace").resolve(LISTING + ".artifact");
        byte[] stored = Files.readAllBytes(file);
        assertThat(new String(stored, StandardCharsets.ISO_8859_1)).startsWith("CTZA\u0001").doesNotContain("secret weights");
        assertThat(stored.length).isGreaterThan(object.length);
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.getPosixFilePermissions(file.getParent())).isEqualTo(
                java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        for (byte[] key : dataKeys.values()) {
            assertThat(new String(stored, StandardCharsets.ISO_8859_1)).doesNotContain(new String(key, StandardCharsets.ISO_8859_1));
        }
        Path target = dir.resolve("model.tar.gz");
        a.open(SELLER, PRODUCT, LISTING, sealed.keyArn(), sealed.wrappedKey(), target, 10L << 20);
        assertThat(Files.readAllBytes(target)).isEqualTo(object);
        String context = "{\"citadel:marketplace:product\":\"" + PRODUCT + "\"}";
        assertThat(calls).containsExactly(
                "IAMUser arn:aws:iam::" + SELLER + ":user/admin " + SELLER + " kms:GenerateDataKey " + context,
                "IAMUser arn:aws:iam::" + SELLER + ":user/admin " + SELLER + " s3:GetObject ",
                "AWSService citadel-marketplace.amazonaws.com " + SELLER + " kms:Decrypt " + context);
    }

    @Test
    void aRefusedDecryptIsAClientErrorThatSaysWhyAndWritesNothing() throws Exception {
        ProductArtifacts a = artifacts();
        ProductArtifacts.Sealed sealed = a.seal(SELLER_ADMIN, KEY, PRODUCT, LISTING, "b", "k");
        refuseDecrypt = new AwsException("AccessDeniedException", 400, "User: citadel-marketplace.amazonaws.com is not authorized");
        Path target = dir.resolve("model.tar.gz");
        assertThatThrownBy(() -> a.open(SELLER, PRODUCT, LISTING, sealed.keyArn(), sealed.wrappedKey(), target, 10L << 20))
                .isInstanceOf(AwsException.class).hasMessageContaining("the seller's key no longer lets Citadel's launcher open")
                .hasMessageContaining("AccessDeniedException");
        assertThat(target).doesNotExist();
    }

    @Test
    void aSealedFileMovedToAnotherListingOrAlteredDoesNotOpen() throws Exception {
        ProductArtifacts a = artifacts();
        ProductArtifacts.Sealed sealed = a.seal(SELLER_ADMIN, KEY, PRODUCT, LISTING, "b", "k");
        Path file = dir.resolve("marketplace").resolve(LISTING + ".artifact");
        String other = "lst-99887766554433221100";
        Files.copy(file, dir.resolve("marketplace").resolve(other + ".artifact"));
        assertThatThrownBy(() -> a.open(SELLER, PRODUCT, other, sealed.keyArn(), sealed.wrappedKey(), dir.resolve("moved"), 10L << 20))
                .isInstanceOf(AwsException.class).hasMessageContaining("does not open");
        assertThat(dir.resolve("moved")).doesNotExist();
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 1;
        Files.write(file, bytes);
        assertThatThrownBy(() -> a.open(SELLER, PRODUCT, LISTING, sealed.keyArn(), sealed.wrappedKey(), dir.resolve("altered"), 10L << 20))
                .isInstanceOf(AwsException.class).hasMessageContaining("does not open");
        assertThat(dir.resolve("altered")).doesNotExist();
    }

    @Test
    void anArtifactLargerThanTheVolumeIsRefused() throws Exception {
        ProductArtifacts a = artifacts();
        ProductArtifacts.Sealed sealed = a.seal(SELLER_ADMIN, KEY, PRODUCT, LISTING, "b", "k");
        assertThatThrownBy(() -> a.open(SELLER, PRODUCT, LISTING, sealed.keyArn(), sealed.wrappedKey(), dir.resolve("big"), 1000))
                .isInstanceOf(AwsException.class).hasMessageContaining("larger than the volume");
        assertThat(dir.resolve("big")).doesNotExist();
    }

    @Test
    void aFailedReadLeavesNoFile() throws Exception {
        object = null; // the caller may not read the artifact
        ProductArtifacts a = artifacts();
        assertThatThrownBy(() -> a.seal(SELLER_ADMIN, KEY, PRODUCT, LISTING, "b", "k")).isInstanceOf(AwsException.class).hasMessage("Access Denied");
        try (var files = Files.list(dir.resolve("marketplace"))) {
            assertThat(files.toList()).isEmpty();
        }
    }

    @Test
    void aWithdrawnListingsArtifactIsGone() throws Exception {
        ProductArtifacts a = artifacts();
        ProductArtifacts.Sealed sealed = a.seal(SELLER_ADMIN, KEY, PRODUCT, LISTING, "b", "k");
        a.delete(LISTING);
        assertThatThrownBy(() -> a.open(SELLER, PRODUCT, LISTING, sealed.keyArn(), sealed.wrappedKey(), dir.resolve("x"), 10L << 20))
                .isInstanceOf(AwsException.class).hasMessageContaining("sealed artifact is gone");
        assertThat(calls).noneMatch(c -> c.contains("Decrypt"));
    }

    @Test
    void onlyAGrantToTheLauncherForDecryptBoundToThisProductIsAccepted() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        String bound = "{\"citadel:marketplace:product\":\"" + PRODUCT + "\"}";
        assertThat(MarketplaceService.launcherGrant(json.readTree("{\"GranteePrincipal\":\"citadel-marketplace.amazonaws.com\","
                + "\"Operations\":[\"Decrypt\"],\"Constraints\":{\"EncryptionContextSubset\":" + bound + "}}"), PRODUCT)).isTrue();
        assertThat(MarketplaceService.launcherGrant(json.readTree("{\"GranteePrincipal\":\"citadel-marketplace.amazonaws.com\","
                + "\"Operations\":[\"Decrypt\"],\"Constraints\":{\"EncryptionContextEquals\":" + bound + "}}"), PRODUCT)).isTrue();
        for (String refused : List.of(
                // no constraint: not bound to the product
                "{\"GranteePrincipal\":\"citadel-marketplace.amazonaws.com\",\"Operations\":[\"Decrypt\"]}",
                // another product
                "{\"GranteePrincipal\":\"citadel-marketplace.amazonaws.com\",\"Operations\":[\"Decrypt\"],\"Constraints\":"
                        + "{\"EncryptionContextSubset\":{\"citadel:marketplace:product\":\"" + PRODUCT + "-other\"}}}",
                // a context the launcher's Decrypt would not satisfy
                "{\"GranteePrincipal\":\"citadel-marketplace.amazonaws.com\",\"Operations\":[\"Decrypt\"],\"Constraints\":"
                        + "{\"EncryptionContextSubset\":{\"citadel:marketplace:product\":\"" + PRODUCT + "\",\"x\":\"y\"}}}",
                // another grantee
                "{\"GranteePrincipal\":\"arn:aws:iam::444455556666:root\",\"Operations\":[\"Decrypt\"],\"Constraints\":"
                        + "{\"EncryptionContextSubset\":" + bound + "}}",
                // not Decrypt
                "{\"GranteePrincipal\":\"citadel-marketplace.amazonaws.com\",\"Operations\":[\"Encrypt\"],\"Constraints\":"
                        + "{\"EncryptionContextSubset\":" + bound + "}}")) {
            JsonNode grant = json.readTree(refused);
            assertThat(MarketplaceService.launcherGrant(grant, PRODUCT)).as(refused).isFalse();
        }
    }
}

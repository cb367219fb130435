package dev.citadel.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.metadata.MetadataStore;
import dev.citadel.server.acceptance.ClientEnvironment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Stored secrets are sealed blobs under Citadel's own KMS key (the first start's admin key
 * included), and that key cannot be used, disabled or deleted through the API.
 */
class SecretsAtRestTest {
    @Test
    void accessKeySecretsAreSealedBlobsUnderTheSystemKey() throws Exception {
        try (TestServer server = TestServer.start()) {
            String secret = Files.readAllLines(server.clientFiles().credentialsFile()).stream()
                    .filter(l -> l.startsWith("aws_secret_access_key")).findFirst().orElseThrow().split("=")[1].strip();
            try (MetadataStore store = MetadataStore.open(TestServer.config(server.dataDir()).metadata())) {
                List<byte[]> sealed = store.read(h -> h.createQuery("SELECT secret_sealed FROM iam_access_keys").mapTo(byte[].class).list());
                assertThat(sealed).isNotEmpty().allSatisfy(s -> {
                    assertThat(new String(s, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("CTZB");
                    assertThat(new String(s, StandardCharsets.ISO_8859_1)).doesNotContain(secret);
                });
            }
            ClientEnvironment.Result r = ClientEnvironment.run(server.clientFiles(), List.of("python3", "-c", """
                    import boto3, botocore
                    kms = boto3.client("kms")
                    key = kms.describe_key(KeyId="alias/citadel/secrets")["KeyMetadata"]["KeyId"]
                    for call in (lambda: kms.disable_key(KeyId=key), lambda: kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7),
                                 lambda: kms.encrypt(KeyId=key, Plaintext=b"x"), lambda: kms.put_key_policy(KeyId=key, PolicyName="default",
                                 Policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}')):
                        try:
                            call()
                            print("allowed")
                        except botocore.exceptions.ClientError as e:
                            print(e.response["Error"]["Code"])
                    """));
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            assertThat(r.stdout().lines().toList()).containsExactly("AccessDeniedException", "AccessDeniedException", "AccessDeniedException",
                    "AccessDeniedException");
        }
    }
}

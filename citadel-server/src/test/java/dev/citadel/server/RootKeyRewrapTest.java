package dev.citadel.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.server.acceptance.ClientEnvironment;
import dev.citadel.server.keys.SoftHsm;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The operator's move from the root key file into a PKCS#11 token (SoftHSM2): after
 * {@code citadel rewrap-root-key}, the server starts on the token and every secret still works
 * (the admin's access key signs, a KMS ciphertext made before decrypts).
 */
class RootKeyRewrapTest {
    private static final String ENCRYPT = """
            import boto3, base64
            kms = boto3.client("kms")
            key = kms.create_key()["KeyMetadata"]["KeyId"]
            blob = kms.encrypt(KeyId=key, Plaintext=b"kept across the move", EncryptionContext={"k": "v"})["CiphertextBlob"]
            print(base64.b64encode(blob).decode())
            """;

    private static String decrypt(String blob) {
        return "import boto3, base64\n"
                + "print(boto3.client('kms').decrypt(CiphertextBlob=base64.b64decode('" + blob + "'), EncryptionContext={'k': 'v'})"
                + "['Plaintext'].decode())\n"
                + "print(boto3.client('sts').get_caller_identity()['Arn'])\n";
    }

    @Test
    void secretsMoveFromTheKeyFileIntoTheTokenAndStillWork() {
        // Always starts from the key file (overriding the pkcs11 run's default), whatever the run.
        TestServer server = TestServer.start("root-key.provider=file");
        try {
            ClientEnvironment.Result made = ClientEnvironment.run(server.clientFiles(), List.of("python3", "-c", ENCRYPT));
            assertThat(made.exitCode()).as(made.stderr()).isZero();
            String blob = made.stdout().strip();
            server.stop();

            String pin = SoftHsm.pinFile().toString();
            int exit = new CommandLine(new CitadelMain()).execute("rewrap-root-key", "--data-dir", server.dataDir().toString(),
                    "--to", "root-key.provider=pkcs11", "--to", "root-key.pkcs11-pin-file=" + pin, "--to", "root-key.pkcs11-key-label=rewrap-test");
            assertThat(exit).isZero();

            server = server.restart("root-key.provider=pkcs11", "root-key.pkcs11-pin-file=" + pin, "root-key.pkcs11-key-label=rewrap-test");
            ClientEnvironment.Result after = ClientEnvironment.run(server.clientFiles(), List.of("python3", "-c", decrypt(blob)));
            assertThat(after.exitCode()).as(after.stderr()).isZero();
            assertThat(after.stdout()).contains("kept across the move").contains(":user/admin");
        } finally {
            server.close();
        }
    }
}

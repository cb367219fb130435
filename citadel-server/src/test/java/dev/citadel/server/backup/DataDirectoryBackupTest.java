package dev.citadel.server.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.metadata.SqliteSnapshot;
import dev.citadel.server.TestServer;
import dev.citadel.server.acceptance.ClientEnvironment;
import dev.citadel.server.keys.AesGcmSecretSealer;
import dev.citadel.server.keys.RootKeyFile;
import dev.citadel.services.s3.S3Service;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backup's race with the server, made to happen: an object deleted through the API right after
 * the metadata copy (its blob gone before the backup reaches it) makes the backup copy the
 * metadata again, and the result refers to nothing it lacks; a blob missing from the data
 * directory itself fails the backup as damage. The keys are files whatever the run.
 */
@Tag("runs-once")
class DataDirectoryBackupTest {
    @TempDir
    Path dir;

    private static DataDirectoryBackup.Request request(TestServer server, Path target) {
        return new DataDirectoryBackup.Request(TestServer.config(server.dataDir(), "root-key.provider=file"), Optional.empty(), target,
                Optional.empty(), new AesGcmSecretSealer(RootKeyFile.load(server.dataDir().resolve("keys/root.key")), new SecureRandom()),
                "test");
    }

    private static void python(TestServer server, String... lines) {
        ClientEnvironment.Result r = ClientEnvironment.run(server.clientFiles(), List.of("python3", "-c", String.join("\n", lines)));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
    }

    private static Set<String> blobsOf(Path database) {
        return SqliteSnapshot.read(database, S3Service::referencedBlobs);
    }

    @Test
    void anObjectDeletedAfterTheMetadataCopyMakesTheBackupCopyItAgain() throws Exception {
        try (TestServer server = TestServer.start("root-key.provider=file")) {
            python(server, "import boto3", "s3 = boto3.client('s3')", "s3.create_bucket(Bucket='race')",
                    "s3.put_object(Bucket='race', Key='deleted', Body=b'd' * 100000)", "s3.put_object(Bucket='race', Key='kept', Body=b'k' * 100000)");
            Path target = dir.resolve("backup");
            DataDirectoryBackup.Result result = DataDirectoryBackup.take(request(server, target), Clock.systemUTC(), snapshot -> {
                if (snapshot == 1) {
                    python(server, "import boto3", "boto3.client('s3').delete_object(Bucket='race', Key='deleted')");
                }
            });
            assertThat(result.snapshots()).isEqualTo(2);

            Set<String> referenced = blobsOf(target.resolve(BackupManifest.DATABASE));
            BackupManifest manifest = BackupManifest.parse(Files.readAllBytes(target.resolve(BackupManifest.MANIFEST)));
            List<String> listed = manifest.files().stream().map(BackupManifest.Entry::path).filter(p -> p.startsWith("objects/")).toList();
            assertThat(listed).hasSize(referenced.size());
            for (String id : referenced) {
                assertThat(listed).contains("objects/" + id.substring(0, 2) + "/" + id);
                assertThat(target.resolve("objects/" + id.substring(0, 2) + "/" + id)).isRegularFile();
            }
            try (Stream<Path> walk = Files.walk(target.resolve("objects"))) {
                assertThat(walk.filter(Files::isRegularFile).count()).as("no blob beyond those listed").isEqualTo(listed.size());
            }
            long kept = SqliteSnapshot.read(target.resolve(BackupManifest.DATABASE), h -> h.createQuery(
                    "SELECT count(*) FROM s3_object_versions WHERE bucket = 'race' AND delete_marker = 0").mapTo(Long.class).one());
            assertThat(kept).as("only 'kept' is in the second copy").isEqualTo(1);
            BackupManifest.authenticate(Files.readAllBytes(target.resolve(BackupManifest.MANIFEST)),
                    Files.readAllBytes(target.resolve(BackupManifest.SEAL)),
                    new AesGcmSecretSealer(RootKeyFile.load(server.dataDir().resolve("keys/root.key")), new SecureRandom()));
        }
    }

    @Test
    void anActiveListingsSealedArtifactIsBackedUpAndRestoredAndAWithdrawnOnesIsNot() throws Exception {
        String active = "lst-0123456789abcdef0123";
        String withdrawn = "lst-fedcba9876543210fedc";
        byte[] sealed = new byte[4096];
        new SecureRandom().nextBytes(sealed);
        try (TestServer server = TestServer.start("root-key.provider=file")) {
            server.stop();
            try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + server.dataDir().resolve("metadata/citadel.db"));
                    java.sql.Statement st = c.createStatement()) {
                for (String[] l : List.of(new String[] {active, "Active"}, new String[] {withdrawn, "Withdrawn"})) {
                    st.executeUpdate("INSERT INTO marketplace_listings (listing_id, seller_account, product_kind, product_name, product_arn, "
                            + "title, description, status, created_at, modified_at) VALUES ('" + l[0] + "', '111122223333', 'MODEL_PACKAGE', "
                            + "'p', 'arn:aws:sagemaker:us-east-1:111122223333:model-package/p', 't', '', '" + l[1] + "', 1, 1)");
                    st.executeUpdate("INSERT INTO marketplace_artifacts (listing_id, key_arn, wrapped_key, created_at) VALUES ('" + l[0]
                            + "', 'arn:aws:kms:us-east-1:111122223333:key/k', X'00', 1)");
                }
            }
            Files.createDirectories(server.dataDir().resolve("marketplace"));
            Files.write(server.dataDir().resolve("marketplace/" + active + ".artifact"), sealed);

            Path target = dir.resolve("backup");
            DataDirectoryBackup.take(request(server, target), Clock.systemUTC());
            BackupManifest manifest = BackupManifest.parse(Files.readAllBytes(target.resolve(BackupManifest.MANIFEST)));
            assertThat(manifest.files().stream().map(BackupManifest.Entry::path).filter(p -> p.startsWith("marketplace/")))
                    .containsExactly("marketplace/" + active + ".artifact");

            Path restored = dir.resolve("restored");
            var config = TestServer.config(restored, "root-key.provider=file");
            DataDirectoryRestore.restore(new DataDirectoryRestore.Request(target, config), DataDirectoryRestore.readManifest(target),
                    new DataDirectoryRestore.RootKey(new AesGcmSecretSealer(RootKeyFile.load(server.dataDir().resolve("keys/root.key")),
                            new SecureRandom()), Optional.of(dev.citadel.core.SecretBytes.copyOf(
                            Files.readAllBytes(server.dataDir().resolve("keys/root.key"))))));
            assertThat(restored.resolve("marketplace/" + active + ".artifact")).hasBinaryContent(sealed);
            assertThat(restored.resolve("marketplace/" + withdrawn + ".artifact")).doesNotExist();
        }
    }

    @Test
    void aBlobMissingFromTheDataDirectoryFailsTheBackupAndLeavesNothing() throws Exception {
        try (TestServer server = TestServer.start("root-key.provider=file")) {
            python(server, "import boto3", "s3 = boto3.client('s3')", "s3.create_bucket(Bucket='damaged')",
                    "s3.put_object(Bucket='damaged', Key='lost', Body=b'l' * 1000)");
            server.stop();
            Path objects = server.dataDir().resolve("objects");
            Path lost;
            try (Stream<Path> walk = Files.walk(objects)) {
                lost = walk.filter(Files::isRegularFile).findFirst().orElseThrow();
            }
            Files.delete(lost);
            Path target = dir.resolve("backup");
            assertThatThrownBy(() -> DataDirectoryBackup.take(request(server, target), Clock.systemUTC()))
                    .isInstanceOf(BackupException.class)
                    .hasMessageContaining("refers to 1 blob(s) that are not in the data directory")
                    .hasMessageContaining(lost.getFileName().toString())
                    .hasMessageContaining("damaged");
            assertThat(target).doesNotExist();
        }
    }
}

package dev.citadel.services.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.metadata.MetadataConfig;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.kms.KmsRepository.Key;
import dev.citadel.services.TestSupport;
import dev.citadel.services.accounts.AccountDirectory;
import dev.citadel.services.kms.KmsKeys;
import dev.citadel.services.kms.SealedBlobs;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded object content store: sealed, durable, range-readable, nothing partial left behind, no plaintext on disk. */
class LocalBlobStoreTest {
    private static final Map<String, String> CONTEXT = Map.of("aws:s3:arn", "arn:aws:s3:::bucket/key");

    @TempDir
    Path dir;
    private MetadataStore store;
    private LocalBlobStore blobs;
    private Key key;

    @BeforeEach
    void setUp() {
        store = MetadataStore.open(MetadataConfig.embedded(dir.resolve("db")));
        TestSupport.MarkingSealer sealer = new TestSupport.MarkingSealer();
        TestSupport.MovableClock clock = new TestSupport.MovableClock();
        AccountDirectory directory = new AccountDirectory(store, sealer, new SecureRandom(), clock);
        directory.createOrganization("ops@example.com", "admin");
        String account = directory.organization().orElseThrow().managementAccountId();
        KmsKeys keys = new KmsKeys(store, sealer, new SecureRandom(), clock);
        String keyId = java.util.UUID.randomUUID().toString();
        key = new Key(keyId, account, "arn:aws:kms:us-east-1:" + account + ":key/" + keyId, "", "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT",
                "Enabled", "{}", false, 365, 1, java.util.Optional.empty(), clock.now);
        keys.change(h -> {
            var repo = new dev.citadel.metadata.kms.KmsRepository(h);
            repo.insertKey(key);
            repo.addVersion(keyId, 1, keys.newSealedMaterial(keyId, 1, 32), clock.now);
        });
        blobs = new LocalBlobStore(dir.resolve("objects"), new SealedBlobs(keys));
    }

    @AfterEach
    void tearDown() {
        store.close();
    }

    @Test
    void writesDurablyReadsRangesAndReportsDigests() throws Exception {
        byte[] data = new byte[3 * (1 << 20) + 11];
        new Random(7).nextBytes(data);
        BlobStore.Written w = blobs.write(new ByteArrayInputStream(data), key, CONTEXT);
        assertThat(w.length()).isEqualTo(data.length);
        assertThat(w.md5Hex()).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data)));
        assertThat(w.sha256Hex()).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)));
        assertThat(blobs.ids()).containsExactly(w.blobId());
        try (SeekableByteChannel c = blobs.read(w.blobId(), CONTEXT)) {
            c.position((1 << 20) - 5);
            ByteBuffer b = ByteBuffer.allocate(100);
            while (b.hasRemaining() && c.read(b) > 0) {
                // read on
            }
            assertThat(b.array()).isEqualTo(java.util.Arrays.copyOfRange(data, (1 << 20) - 5, (1 << 20) + 95));
        }
        assertThatThrownBy(() -> blobs.read(w.blobId(), Map.of("aws:s3:arn", "arn:aws:s3:::other/key")).read(ByteBuffer.allocate(1)))
                .isInstanceOf(IOException.class);
        assertThat(blobs.delete(w.blobId())).isTrue();
        assertThat(blobs.exists(w.blobId())).isFalse();
    }

    @Test
    void noPlaintextReachesTheDisk() throws Exception {
        String marker = "CITADEL-MARKER-7f3a9c-" + "x".repeat(100);
        byte[] data = (marker + " then some training data ").repeat(2000).getBytes(StandardCharsets.UTF_8);
        blobs.write(new ByteArrayInputStream(data), key, CONTEXT);
        byte[] first64 = java.util.Arrays.copyOf(data, 64);
        try (var files = Files.walk(dir.resolve("objects"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String raw = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                assertThat(raw).doesNotContain("CITADEL-MARKER")
                        .doesNotContain(new String(first64, StandardCharsets.ISO_8859_1))
                        .doesNotContain(java.util.Base64.getEncoder().encodeToString(first64).substring(0, 40))
                        .doesNotContain(HexFormat.of().formatHex(first64).substring(0, 40));
            }
        }
    }

    @Test
    void aFailedWriteLeavesNothingAndRecoveryClearsInterruptedOnes() throws Exception {
        InputStream failing = new InputStream() {
            private int left = 5_000_000;

            @Override
            public int read() throws IOException {
                if (--left < 0) {
                    throw new IOException("client went away");
                }
                return 'a';
            }
        };
        assertThatThrownBy(() -> blobs.write(failing, key, CONTEXT)).isInstanceOf(IOException.class);
        try (var files = Files.walk(dir.resolve("objects"))) {
            assertThat(files.filter(Files::isRegularFile).toList()).isEmpty();
        }
        Path stray = Files.createDirectories(dir.resolve("objects").resolve("ab")).resolve("ab" + "0".repeat(30) + ".partial");
        Files.write(stray, new byte[10]);
        assertThat(blobs.recover()).isEqualTo(1);
        assertThat(Files.exists(stray)).isFalse();
    }
}

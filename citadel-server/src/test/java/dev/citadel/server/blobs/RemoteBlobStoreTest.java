package dev.citadel.server.blobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.core.SecretBytes;
import dev.citadel.metadata.MetadataConfig;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.kms.KmsRepository;
import dev.citadel.metadata.kms.KmsRepository.Key;
import dev.citadel.server.TestServer;
import dev.citadel.server.config.BlobStoreConfig;
import dev.citadel.server.keys.AesGcmSecretSealer;
import dev.citadel.services.accounts.AccountDirectory;
import dev.citadel.services.kms.KmsKeys;
import dev.citadel.services.kms.SealedBlobs;
import dev.citadel.services.s3.BlobStore;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The remote blob store against a real S3-compatible service: another Citadel on loopback, reached
 * over TLS with its own CA. Each test writes under a prefix of its own.
 */
@Tag("runs-once")
class RemoteBlobStoreTest {
    private static final Map<String, String> CONTEXT = Map.of("aws:s3:arn", "arn:aws:s3:::bucket/key");
    private static final String BUCKET = "remote-blob-store-test";
    private static final String MARKER = "CITADEL-REMOTE-BLOB-MARKER-8f14e45f";

    private static TestServer backing;
    private static BlobStoreConfig.Remote remote;
    private static S3Client direct;

    @TempDir
    Path dir;
    private MetadataStore store;
    private SealedBlobs sealed;
    private Key key;
    private String prefix;
    private RemoteBlobStore blobs;

    @BeforeAll
    static void startBackingService() throws IOException {
        backing = TestServer.start();
        List<String> credentials = Files.readAllLines(backing.clientFiles().credentialsFile());
        remote = new BlobStoreConfig.Remote(URI.create("https://localhost:" + backing.port()), BUCKET, "", "us-east-1",
                value(credentials, "aws_access_key_id"), SecretBytes.ofUtf8(value(credentials, "aws_secret_access_key")),
                Optional.of(backing.clientFiles().caFile()));
        direct = RemoteBlobStore.client(remote);
        direct.createBucket(b -> b.bucket(BUCKET));
    }

    @AfterAll
    static void stopBackingService() {
        direct.close();
        backing.close();
    }

    static String value(List<String> credentialsFile, String name) {
        return credentialsFile.stream().filter(l -> l.startsWith(name + " ")).map(l -> l.substring(l.indexOf('=') + 1).strip())
                .findFirst().orElseThrow();
    }

    @BeforeEach
    void setUp() {
        SecureRandom random = new SecureRandom();
        store = MetadataStore.open(MetadataConfig.embedded(dir.resolve("db")));
        byte[] root = new byte[32];
        random.nextBytes(root);
        AesGcmSecretSealer sealer = new AesGcmSecretSealer(SecretBytes.copyOf(root), random);
        AccountDirectory accounts = new AccountDirectory(store, sealer, random, Clock.systemUTC());
        accounts.createOrganization("ops@example.com", "admin");
        String account = accounts.organization().orElseThrow().managementAccountId();
        KmsKeys keys = new KmsKeys(store, sealer, random, Clock.systemUTC());
        String keyId = UUID.randomUUID().toString();
        java.time.Instant now = java.time.Instant.now();
        key = new Key(keyId, account, "arn:aws:kms:us-east-1:" + account + ":key/" + keyId, "", "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT",
                "Enabled", "{}", false, 365, 1, Optional.empty(), now);
        keys.change(h -> {
            KmsRepository repo = new KmsRepository(h);
            repo.insertKey(key);
            repo.addVersion(keyId, 1, keys.newSealedMaterial(keyId, 1, 32), now);
        });
        sealed = new SealedBlobs(keys);
        prefix = "t-" + UUID.randomUUID().toString().substring(0, 8) + "/";
        blobs = store(5 << 20, 1 << 20);
    }

    /** A store with its own client, under this test's prefix; small parts and windows so that a few MiB exercise both. */
    private RemoteBlobStore store(long partSize, int readAhead) {
        return new RemoteBlobStore(RemoteBlobStore.client(remote), BUCKET, prefix, dir.resolve("spool"), sealed, partSize, readAhead);
    }

    @AfterEach
    void tearDown() {
        blobs.close();
        store.close();
    }

    private static byte[] data(int size, long seed) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        byte[] marker = MARKER.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(marker, 0, data, 0, marker.length);
        return data;
    }

    private static byte[] readRange(SeekableByteChannel c, long from, int length) throws IOException {
        c.position(from);
        ByteBuffer b = ByteBuffer.allocate(length);
        while (b.hasRemaining() && c.read(b) > 0) {
            // a read may return less than asked
        }
        return Arrays.copyOf(b.array(), b.position());
    }

    private List<S3Object> remoteObjects() {
        return direct.listObjectsV2Paginator(b -> b.bucket(BUCKET).prefix(prefix)).contents().stream().toList();
    }

    private List<MultipartUpload> remoteUploads() {
        return direct.listMultipartUploadsPaginator(b -> b.bucket(BUCKET).prefix(prefix)).uploads().stream().toList();
    }

    private List<Path> spoolFiles() throws IOException {
        try (var files = Files.list(dir.resolve("spool"))) {
            return files.toList();
        }
    }

    @Test
    void writeStoresOneSealedObjectAndReadsDecryptOnlyTheRangesAsked() throws Exception {
        byte[] data = data(3 * (1 << 20) + 11, 7);
        BlobStore.Written w = blobs.write(new ByteArrayInputStream(data), key, CONTEXT);

        assertThat(w.blobId()).matches("[0-9a-f]{32}");
        assertThat(w.length()).isEqualTo(data.length);
        assertThat(w.md5Hex()).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data)));
        assertThat(w.sha256Hex()).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)));
        assertThat(remoteObjects()).extracting(S3Object::key).containsExactly(prefix + w.blobId().substring(0, 2) + "/" + w.blobId());
        byte[] stored = direct.getObjectAsBytes(b -> b.bucket(BUCKET).key(remoteObjects().getFirst().key())).asByteArray();
        assertThat(new String(stored, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("CTZB");
        assertThat(new String(stored, StandardCharsets.ISO_8859_1)).doesNotContain(MARKER);
        assertThat(spoolFiles()).isEmpty();

        try (SeekableByteChannel c = blobs.read(w.blobId(), CONTEXT)) {
            assertThat(c.size()).isEqualTo(data.length);
            assertThat(readRange(c, (1 << 20) - 5, 100)).isEqualTo(Arrays.copyOfRange(data, (1 << 20) - 5, (1 << 20) + 95));
            assertThat(readRange(c, data.length - 20, 100)).isEqualTo(Arrays.copyOfRange(data, data.length - 20, data.length));
            assertThat(readRange(c, 0, 10)).isEqualTo(Arrays.copyOf(data, 10));
            assertThat(readRange(c, 0, data.length)).isEqualTo(data);
        }
        assertThat(blobs.exists(w.blobId())).isTrue();
    }

    @Test
    void aBlobLargerThanOnePartIsUploadedInPartsAndReadsBackWhole() throws Exception {
        byte[] data = data(11 * (1 << 20) + 3, 8);
        BlobStore.Written w = blobs.write(new ByteArrayInputStream(data), key, CONTEXT);

        assertThat(w.sha256Hex()).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)));
        assertThat(remoteObjects()).singleElement().satisfies(o -> assertThat(o.size()).isGreaterThan(data.length));
        assertThat(remoteUploads()).isEmpty();
        try (SeekableByteChannel c = blobs.read(w.blobId(), CONTEXT); InputStream in = java.nio.channels.Channels.newInputStream(c)) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
    }

    @Test
    void aWriteWhoseInputFailsLeavesNothingRemoteNorInTheSpool() throws Exception {
        for (int failAfter : new int[] {100, 7 << 20}) {
            InputStream failing = new InputStream() {
                private int read;

                @Override
                public int read() throws IOException {
                    if (read++ >= failAfter) {
                        throw new IOException("the client went away");
                    }
                    return 'x';
                }
            };
            assertThatThrownBy(() -> blobs.write(failing, key, CONTEXT)).isInstanceOf(IOException.class).hasMessage("the client went away");
        }
        assertThat(remoteObjects()).isEmpty();
        assertThat(remoteUploads()).isEmpty();
        assertThat(spoolFiles()).isEmpty();
        assertThat(blobs.ids()).isEmpty();
    }

    @Test
    void deleteRemovesTheObjectAndSaysWhetherItExisted() throws Exception {
        BlobStore.Written w = blobs.write(new ByteArrayInputStream(data(1000, 9)), key, CONTEXT);
        assertThat(blobs.delete(w.blobId())).isTrue();
        assertThat(blobs.delete(w.blobId())).isFalse();
        assertThat(blobs.exists(w.blobId())).isFalse();
        assertThat(remoteObjects()).isEmpty();
        assertThatThrownBy(() -> blobs.read(w.blobId(), CONTEXT)).isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void idsListsTheBlobsUnderThePrefixAndNothingElse() throws Exception {
        BlobStore.Written a = blobs.write(new ByteArrayInputStream(data(100, 1)), key, CONTEXT);
        BlobStore.Written b = blobs.write(new ByteArrayInputStream(data(100, 2)), key, CONTEXT);
        String notOurs = "0123456789abcdef0123456789abcdef";
        direct.putObject(r -> r.bucket(BUCKET).key(prefix + "README"), RequestBody.fromBytes("not a blob".getBytes(StandardCharsets.US_ASCII)));
        direct.putObject(r -> r.bucket(BUCKET).key(prefix + "ff/" + notOurs), RequestBody.fromBytes("wrong directory".getBytes(StandardCharsets.US_ASCII)));
        direct.putObject(r -> r.bucket(BUCKET).key("elsewhere/01/" + notOurs), RequestBody.fromBytes("other prefix".getBytes(StandardCharsets.US_ASCII)));

        assertThat(blobs.ids()).containsExactlyInAnyOrder(a.blobId(), b.blobId());
    }

    @Test
    void recoverAbortsUploadsAndRemovesSpoolFilesLeftByInterruptedWrites() throws Exception {
        String abandoned = prefix + "ab/ab" + "0".repeat(30);
        direct.createMultipartUpload(b -> b.bucket(BUCKET).key(abandoned));
        String foreign = "elsewhere/" + UUID.randomUUID();
        String foreignUpload = direct.createMultipartUpload(b -> b.bucket(BUCKET).key(foreign)).uploadId();
        Files.write(dir.resolve("spool").resolve("cd" + "1".repeat(30) + ".sealing"), new byte[] {1, 2, 3});

        assertThat(blobs.recover()).isEqualTo(2);
        assertThat(remoteUploads()).isEmpty();
        assertThat(spoolFiles()).isEmpty();
        assertThat(direct.listMultipartUploads(b -> b.bucket(BUCKET).prefix("elsewhere/")).uploads())
                .extracting(MultipartUpload::uploadId).contains(foreignUpload);
        direct.abortMultipartUpload(b -> b.bucket(BUCKET).key(foreign).uploadId(foreignUpload));
    }

    @Test
    void readWithAnotherEncryptionContextFails() throws Exception {
        BlobStore.Written w = blobs.write(new ByteArrayInputStream(data(1000, 3)), key, CONTEXT);
        assertThatThrownBy(() -> blobs.read(w.blobId(), Map.of("aws:s3:arn", "arn:aws:s3:::bucket/other")))
                .isInstanceOf(SealedBlobs.SealedBlobException.class);
    }

    @Test
    void anIdThatIsNotOneIsRefusedBeforeAnyRequest() {
        assertThatThrownBy(() -> blobs.exists("../../etc/passwd")).isInstanceOf(IllegalArgumentException.class).hasMessage("not a blob id");
        assertThatThrownBy(() -> blobs.delete("ABCDEF0123456789ABCDEF0123456789")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aRefusedRequestIsAnIOExceptionThatNamesNoSecret() throws Exception {
        String wrongSecret = "wrong-secret-" + UUID.randomUUID();
        BlobStoreConfig.Remote wrong = new BlobStoreConfig.Remote(remote.endpoint(), BUCKET, prefix, "us-east-1", remote.accessKeyId(),
                SecretBytes.ofUtf8(wrongSecret), remote.caFile());
        try (RemoteBlobStore refused = RemoteBlobStore.open(wrong, dir.resolve("spool"), sealed)) {
            assertThatThrownBy(() -> refused.write(new ByteArrayInputStream(data(1000, 4)), key, CONTEXT))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("PutObject")
                    .hasMessageContaining("SignatureDoesNotMatch")
                    .satisfies(e -> assertThat(e.toString() + e.getCause()).doesNotContain(wrongSecret));
            assertThatThrownBy(refused::ids).isInstanceOf(IOException.class).hasMessageContaining("ListObjectsV2");
        }
        assertThat(spoolFiles()).isEmpty();
        assertThat(remoteObjects()).isEmpty();
    }

    @Test
    void aServiceWhoseCertificateIsNotTrustedIsRefused() throws Exception {
        dev.citadel.server.tls.LocalCertificateAuthority otherCa = new dev.citadel.server.tls.LocalCertificateAuthority(dir.resolve("other-ca"),
                new SecureRandom());
        otherCa.ensure(List.of());
        BlobStoreConfig.Remote untrusted = new BlobStoreConfig.Remote(remote.endpoint(), BUCKET, prefix, "us-east-1", remote.accessKeyId(),
                remote.secretAccessKey(), Optional.of(otherCa.caCertificateFile()));
        try (RemoteBlobStore refused = RemoteBlobStore.open(untrusted, dir.resolve("spool"), sealed)) {
            assertThatThrownBy(() -> refused.exists("0123456789abcdef0123456789abcdef")).isInstanceOf(IOException.class)
                    .hasMessageContaining("HeadObject");
        }
    }
}

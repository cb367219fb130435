package dev.citadel.services.kms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.citadel.metadata.MetadataConfig;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.kms.KmsRepository.Key;
import dev.citadel.pipeline.ConnectionInfo;
import dev.citadel.pipeline.Principal;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.authz.AuthorizationDecision;
import dev.citadel.services.TestSupport;
import dev.citadel.services.accounts.AccountDirectory;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Sealed blobs: round trips at segment boundaries, range reads, and every kind of damage refused. */
class SealedBlobsTest {
    private static final Map<String, String> CONTEXT = Map.of("bucket", "models", "key", "resnet/weights.bin");

    @TempDir
    Path dir;
    private MetadataStore store;
    private KmsKeys keys;
    private KmsService kms;
    private SealedBlobs blobs;
    private Key key;
    private RequestContext ctx;

    @BeforeEach
    void setUp() {
        store = MetadataStore.open(MetadataConfig.embedded(dir.resolve("db")));
        TestSupport.MarkingSealer sealer = new TestSupport.MarkingSealer();
        TestSupport.MovableClock clock = new TestSupport.MovableClock();
        AccountDirectory directory = new AccountDirectory(store, sealer, new SecureRandom(), clock);
        Principal admin = directory.resolveAccessKey(directory.createOrganization("ops@example.com", "admin").accessKeyId()).orElseThrow()
                .principal();
        keys = new KmsKeys(store, sealer, new SecureRandom(), clock);
        kms = new KmsService(keys, request -> AuthorizationDecision.allow());
        ctx = new RequestContext("r", clock.now, "us-east-1", KmsService.DEFINITION, kms.operations().getFirst().spec(), admin,
                new ConnectionInfo("127.0.0.1", "TLSv1.3", "TLS_AES_128_GCM_SHA256", ""), "test");
        String keyId = kms.createKey(ctx, JsonNodeFactory.instance.objectNode()).path("KeyMetadata").path("KeyId").asText();
        key = keys.key(keyId).orElseThrow();
        blobs = new SealedBlobs(keys);
    }

    @AfterEach
    void tearDown() {
        store.close();
    }

    private static byte[] data(int size) {
        byte[] b = new byte[size];
        new Random(size).nextBytes(b);
        return b;
    }

    private Path sealToFile(byte[] plaintext, Map<String, String> context) throws IOException {
        Path file = Files.createTempFile(dir, "blob", ".sealed");
        try (OutputStream out = blobs.seal(Files.newOutputStream(file), key, context)) {
            for (int off = 0; off < plaintext.length; off += 70_000) {
                out.write(plaintext, off, Math.min(70_000, plaintext.length - off));
            }
        }
        return file;
    }

    private byte[] read(Path file, Map<String, String> context, long position, int length) throws IOException {
        try (SeekableByteChannel c = blobs.open(FileChannel.open(file, StandardOpenOption.READ), context)) {
            c.position(position);
            ByteBuffer out = ByteBuffer.allocate(length);
            while (out.hasRemaining() && c.read(out) > 0) {
                // keep reading
            }
            return java.util.Arrays.copyOf(out.array(), out.position());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 65_535 - 16 - 24, 64 << 10, (64 << 10) + 1, 1_048_575 - 16 - 24, 1 << 20, 3 * (1 << 20) + 5})
    void roundTripsAcrossSegmentBoundaries(int size) throws IOException {
        byte[] plaintext = data(size);
        Path file = sealToFile(plaintext, CONTEXT);
        assertThat(read(file, CONTEXT, 0, size + 10)).isEqualTo(plaintext);
        assertThat(Files.size(file)).isGreaterThan(size);
    }

    /** Small blobs get 64 KiB segments (version 2), larger ones 1 MiB segments (version 1); both open whole and by range. */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, SealedBlobs.SMALL - 1, SealedBlobs.SMALL, SealedBlobs.SMALL + 1, 2 * (1 << 20) + 77})
    void theSegmentSizeFollowsTheBlobsSize(int size) throws IOException {
        byte[] plaintext = data(size);
        Path file = sealToFile(plaintext, CONTEXT);
        assertThat(Files.readAllBytes(file)[4]).isEqualTo(size <= SealedBlobs.SMALL ? (byte) 2 : (byte) 1);
        assertThat(read(file, CONTEXT, 0, size + 1)).isEqualTo(plaintext);
        for (long pos : new long[] {(64 << 10) - 3, (1 << 20) - 3}) {
            if (pos < size) {
                int n = (int) Math.min(10, size - pos);
                assertThat(read(file, CONTEXT, pos, n)).isEqualTo(java.util.Arrays.copyOfRange(plaintext, (int) pos, (int) pos + n));
            }
        }
        Path other = dir.resolve("other-version-" + size);
        try (OutputStream out = blobs.seal(Files.newOutputStream(other), key, CONTEXT, size <= SealedBlobs.SMALL ? (byte) 1 : (byte) 2)) {
            out.write(plaintext);
        }
        assertThat(read(other, CONTEXT, 0, size + 1)).as("the other version").isEqualTo(plaintext);
    }

    @Test
    void rangeReadsDecryptOnlyWhatTheyTouch() throws IOException {
        byte[] plaintext = data(5 * (1 << 20) + 123);
        Path file = sealToFile(plaintext, CONTEXT);
        for (long pos : new long[] {0, 1, (1 << 20) - 40, (1 << 20) + 7, 4L * (1 << 20) + 99, plaintext.length - 10}) {
            byte[] got = read(file, CONTEXT, pos, 4096);
            int expected = (int) Math.min(4096, plaintext.length - pos);
            assertThat(got).as("at %d", pos).isEqualTo(java.util.Arrays.copyOfRange(plaintext, (int) pos, (int) pos + expected));
        }
        // A damaged third segment fails reads there, while the first segment still reads.
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            long where = c.size() / 2;
            ByteBuffer one = ByteBuffer.allocate(1);
            c.read(one, where);
            one.put(0, (byte) (one.get(0) ^ 1)).position(0);
            c.write(one, where);
        }
        assertThat(read(file, CONTEXT, 0, 1000)).isEqualTo(java.util.Arrays.copyOf(plaintext, 1000));
        assertThatThrownBy(() -> read(file, CONTEXT, 0, plaintext.length)).isInstanceOf(IOException.class);
    }

    @Test
    void anotherContextTruncationOrAnotherHeaderIsRefused() throws IOException {
        byte[] plaintext = data(2 * (1 << 20) + 17);
        Path file = sealToFile(plaintext, CONTEXT);
        assertThatThrownBy(() -> read(file, Map.of("bucket", "models", "key", "other"), 0, 10)).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> read(file, Map.of(), 0, 10)).isInstanceOf(IOException.class);

        Path truncated = Files.createTempFile(dir, "cut", ".sealed");
        byte[] all = Files.readAllBytes(file);
        Files.write(truncated, java.util.Arrays.copyOf(all, all.length - (1 << 20)));
        assertThatThrownBy(() -> read(truncated, CONTEXT, 0, plaintext.length)).isInstanceOf(IOException.class);

        // The header of another blob (another data key) in front of this stream does not open it.
        Path other = sealToFile(data(10), CONTEXT);
        SealedBlobs.Header h = SealedBlobs.parseHeader(Files.readAllBytes(other)).orElseThrow();
        SealedBlobs.Header mine = SealedBlobs.parseHeader(all).orElseThrow();
        byte[] swapped = new byte[h.length() + all.length - mine.length()];
        System.arraycopy(Files.readAllBytes(other), 0, swapped, 0, h.length());
        System.arraycopy(all, mine.length(), swapped, h.length(), all.length - mine.length());
        Path spliced = Files.createTempFile(dir, "spliced", ".sealed");
        Files.write(spliced, swapped);
        assertThatThrownBy(() -> read(spliced, CONTEXT, 0, 100)).isInstanceOf(IOException.class);

        Path garbage = Files.createTempFile(dir, "garbage", ".sealed");
        Files.write(garbage, "not a sealed blob at all".getBytes());
        assertThatThrownBy(() -> read(garbage, CONTEXT, 0, 10)).isInstanceOf(SealedBlobs.SealedBlobException.class);
    }

    @Test
    void aDisabledOrDeletedKeyOpensNothing() throws IOException {
        Path file = sealToFile(data(100), CONTEXT);
        kms.setEnabled(ctx, JsonNodeFactory.instance.objectNode().put("KeyId", key.keyId()), false);
        assertThatThrownBy(() -> read(file, CONTEXT, 0, 10)).isInstanceOf(SealedBlobs.SealedBlobException.class).hasMessageContaining("Disabled");
        assertThatThrownBy(() -> blobs.seal(new byte[1], keys.key(key.keyId()).orElseThrow(), CONTEXT))
                .isInstanceOf(SealedBlobs.SealedBlobException.class);
    }
}

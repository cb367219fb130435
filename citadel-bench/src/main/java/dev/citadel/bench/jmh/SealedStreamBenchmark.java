package dev.citadel.bench.jmh;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.citadel.core.SecretBytes;
import dev.citadel.core.SecretSealer;
import dev.citadel.metadata.MetadataConfig;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.kms.KmsRepository;
import dev.citadel.services.accounts.AccountDirectory;
import dev.citadel.services.kms.KmsKeys;
import dev.citadel.services.kms.SealedBlobs;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Provider;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Sealed-blob throughput on one thread: sealing and opening 64 MiB (the segmented AES-256-GCM
 * stream under a KMS-wrapped data key, written to and read from a file), and raw AES-256-GCM of
 * 1 MiB segments with the JDK's provider and with Conscrypt's, for the measured choice between them.
 * Each operation is 64 MiB (or 1 MiB for the raw ones): MB/s = ops/s × 64 (× 1).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(1)
public class SealedStreamBenchmark {
    private static final int SIZE = 64 << 20;
    private static final Map<String, String> CONTEXT = Map.of("bucket", "bench");

    private Path dir;
    private MetadataStore store;
    private SealedBlobs blobs;
    private KmsRepository.Key key;
    private Path sealed;
    private final byte[] chunk = new byte[1 << 20];

    /** Raw AES-256-GCM with one provider or the other. */
    @State(Scope.Thread)
    public static class Raw {
        @Param({"JDK", "Conscrypt"})
        public String provider;
        Cipher cipher;
        SecretKeySpec key;
        final byte[] segment = new byte[1 << 20];
        final byte[] out = new byte[(1 << 20) + 16];
        long nonce;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            Provider p = provider.equals("Conscrypt") ? org.conscrypt.Conscrypt.newProvider() : null;
            cipher = p == null ? Cipher.getInstance("AES/GCM/NoPadding") : Cipher.getInstance("AES/GCM/NoPadding", p);
            byte[] k = new byte[32];
            new SecureRandom().nextBytes(k);
            key = new SecretKeySpec(k, "AES");
            new SecureRandom().nextBytes(segment);
        }
    }

    /** A sealer that stores secrets as given: the benchmark measures the stream, not the root key. */
    static final class PlainSealer implements SecretSealer {
        @Override
        public byte[] seal(SecretBytes secret, String context) {
            return secret.revealBytes();
        }

        @Override
        public SecretBytes unseal(byte[] sealed, String context) {
            return SecretBytes.copyOf(sealed);
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("citadel-jmh-sealed-");
        store = MetadataStore.open(MetadataConfig.embedded(dir.resolve("db")));
        PlainSealer sealer = new PlainSealer();
        AccountDirectory directory = new AccountDirectory(store, sealer, new SecureRandom(), Clock.systemUTC());
        directory.createOrganization("bench@example.com", "admin");
        String account = directory.organization().orElseThrow().managementAccountId();
        KmsKeys keys = new KmsKeys(store, sealer, new SecureRandom(), Clock.systemUTC());
        String keyId = java.util.UUID.randomUUID().toString();
        key = new KmsRepository.Key(keyId, account, "arn:aws:kms:us-east-1:" + account + ":key/" + keyId, "", "ENCRYPT_DECRYPT",
                "SYMMETRIC_DEFAULT", "Enabled", "{}", false, 365, 1, java.util.Optional.empty(), java.time.Instant.now());
        store.useTransaction(h -> {
            KmsRepository repo = new KmsRepository(h);
            repo.insertKey(key);
            repo.addVersion(keyId, 1, keys.newSealedMaterial(keyId, 1, 32), java.time.Instant.now());
        });
        blobs = new SealedBlobs(keys);
        new SecureRandom().nextBytes(chunk);
        sealed = dir.resolve("blob.sealed");
        writeSealed();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        store.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    private void writeSealed() throws IOException {
        try (OutputStream s = blobs.seal(Files.newOutputStream(sealed), key, CONTEXT)) {
            for (int written = 0; written < SIZE; written += chunk.length) {
                s.write(chunk);
            }
        }
    }

    /** Seals 64 MiB to a file (the JDK's AES-GCM, through Tink). */
    @Benchmark
    public void seal64MiB() throws IOException {
        writeSealed();
    }

    /** Opens and reads 64 MiB sequentially. */
    @Benchmark
    public long open64MiB() throws IOException {
        long total = 0;
        ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
        try (SeekableByteChannel c = blobs.open(java.nio.channels.FileChannel.open(sealed), CONTEXT)) {
            int n;
            while ((n = c.read(buffer)) > 0) {
                total += n;
                buffer.clear();
            }
        }
        return total;
    }

    /** Raw AES-256-GCM of one 1 MiB segment with the chosen provider. */
    @Benchmark
    public int encrypt1MiBSegment(Raw raw) throws Exception {
        byte[] iv = ByteBuffer.allocate(12).putLong(4, ++raw.nonce).array();
        raw.cipher.init(Cipher.ENCRYPT_MODE, raw.key, new GCMParameterSpec(128, iv));
        return raw.cipher.doFinal(raw.segment, 0, raw.segment.length, raw.out, 0);
    }
}

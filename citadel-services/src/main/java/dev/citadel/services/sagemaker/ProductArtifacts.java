package dev.citadel.services.sagemaker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.crypto.tink.subtle.AesGcmHkdfStreaming;
import dev.citadel.core.AccountId;
import dev.citadel.core.AwsException;
import dev.citadel.pipeline.Principal;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * The sealed copies of listed model packages' artifacts, and Citadel's launcher, the one principal
 * that opens them for a buyer's run.
 *
 * <p>At CreateListing the seller's caller has KMS generate a 32-byte data key under the seller's own
 * key with the encryption context {@code citadel:marketplace:product} = the product's ARN, reads the
 * artifact from its own bucket, and Citadel writes it sealed under that data key; only the wrapped
 * data key (the ciphertext blob) is kept (marketplace_artifacts, V23). When a buyer's endpoint or
 * transform job starts, the launcher, the service principal {@value #LAUNCHER} acting in the
 * seller's account, calls kms:Decrypt on the wrapped key with that context through the request
 * pipeline: authorized only by the seller's key policy or a grant to the launcher (never by any
 * account's IAM policies), and audited in the seller's trail. The plaintext data key lives only
 * while the artifact is decrypted into the serving container's encrypted volume.
 *
 * <pre>
 * file = &lt;dir&gt;/&lt;listing id&gt;.artifact (0600)
 *      = "CTZA" || version (1 byte, 0x01) || stream
 * stream = Tink AesGcmHkdfStreaming (AES-256-GCM, HKDF-SHA256 per-file key, 1 MiB segments) under the data key
 * associated data = "citadel/marketplace-artifact/v1\0" || listing id || 0x00 || product ARN (UTF-8)
 * </pre>
 * The listing and the product are bound to every segment: a file moved to another listing, or
 * truncated, reordered or altered, does not open.
 */
final class ProductArtifacts {
    /** Citadel's launcher, the grantee a seller's KMS grant names. */
    static final String LAUNCHER = "citadel-marketplace.amazonaws.com";
    /** The encryption context key that binds a data key to its product. */
    static final String PRODUCT_CONTEXT = "citadel:marketplace:product";
    private static final byte[] MAGIC = "CTZA".getBytes(StandardCharsets.US_ASCII);
    private static final byte VERSION = 1;
    private static final int SEGMENT = 1 << 20;
    private static final byte[] AAD_PREFIX = "citadel/marketplace-artifact/v1\0".getBytes(StandardCharsets.US_ASCII);
    private static final Pattern LISTING_ID = Pattern.compile("lst-[0-9a-f]{20}");

    /** What CreateListing keeps: the key's ARN and the data key it wraps. */
    record Sealed(String keyArn, byte[] wrappedKey) {
    }

    private final Path dir;
    private final JobData.Invoker invoker;
    private final JobData data;

    ProductArtifacts(Path dir, JobData.Invoker invoker) {
        this.dir = dir;
        this.invoker = invoker;
        this.data = new JobData(invoker);
    }

    private Path file(String listingId) {
        if (!LISTING_ID.matcher(listingId).matches()) {
            throw new IllegalArgumentException("not a listing id");
        }
        return dir.resolve(listingId + ".artifact");
    }

    /**
     * Seals {@code s3://bucket/key} for a listing: the data key generated under {@code keyArn} and the
     * object read, both as {@code seller} (the CreateListing caller, so its own permissions decide and
     * its trail shows both). Written durably; on any failure nothing is left.
     */
    Sealed seal(Principal seller, String keyArn, String productArn, String listingId, String bucket, String key) throws IOException {
        ObjectNode in = JsonNodeFactory.instance.objectNode().put("KeyId", keyArn).put("KeySpec", "AES_256");
        in.putObject("EncryptionContext").put(PRODUCT_CONTEXT, productArn);
        JsonNode out = invoker.invoke(seller, "kms", "GenerateDataKey", in);
        byte[] dataKey = Base64.getDecoder().decode(out.path("Plaintext").asText());
        byte[] wrapped = Base64.getDecoder().decode(out.path("CiphertextBlob").asText());
        Path target = file(listingId);
        Path partial = dir.resolve(listingId + ".partial");
        boolean done = false;
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            if (dataKey.length != 32) {
                throw new IllegalStateException("KMS returned a data key of " + dataKey.length + " bytes");
            }
            try (FileChannel channel = FileChannel.open(partial, java.util.Set.of(StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------")))) {
                OutputStream file = java.nio.channels.Channels.newOutputStream(channel);
                file.write(MAGIC);
                file.write(VERSION);
                AesGcmHkdfStreaming aead = new AesGcmHkdfStreaming(dataKey, "HmacSha256", 32, SEGMENT, 0);
                try (OutputStream sealing = aead.newEncryptingStream(new FilterOutputStream(file) {
                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        out.write(b, off, len);
                    }

                    @Override
                    public void close() throws IOException {
                        flush();
                    }
                }, associatedData(listingId, productArn))) {
                    data.copy(seller, bucket, key, sealing);
                }
                channel.force(true);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("the streaming AEAD could not be set up", e);
            }
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
            done = true;
            return new Sealed(keyArn, wrapped);
        } finally {
            Arrays.fill(dataKey, (byte) 0);
            if (!done) {
                Files.deleteIfExists(partial);
            }
        }
    }

    /**
     * Decrypts a listing's artifact into {@code target} (at most {@code maxBytes}) for a buyer's run:
     * the launcher, acting in the seller's account, has KMS decrypt the data key. A revoked grant, a
     * disabled or deleted key, or a changed key policy refuses here, with KMS's reason.
     */
    void open(String sellerAccount, String productArn, String listingId, String keyArn, byte[] wrappedKey, Path target, long maxBytes)
            throws IOException {
        Path source = file(listingId);
        if (!Files.exists(source)) {
            throw new AwsException("ClientError", 400, "ClientError: the product's sealed artifact is gone; its seller must withdraw the listing and list the product again.");
        }
        ObjectNode in = JsonNodeFactory.instance.objectNode().put("KeyId", keyArn)
                .put("CiphertextBlob", Base64.getEncoder().encodeToString(wrappedKey));
        in.putObject("EncryptionContext").put(PRODUCT_CONTEXT, productArn);
        JsonNode out;
        try {
            out = invoker.invoke(Principal.service(LAUNCHER, new AccountId(sellerAccount)), "kms", "Decrypt", in);
        } catch (AwsException e) {
            throw new AwsException("ClientError", 400, "ClientError: the seller's key no longer lets Citadel's launcher open the product's "
                    + "artifact (" + e.code() + ": " + e.getMessage() + ").");
        }
        byte[] dataKey = Base64.getDecoder().decode(out.path("Plaintext").asText());
        try (InputStream file = Files.newInputStream(source)) {
            byte[] header = file.readNBytes(MAGIC.length + 1);
            if (header.length != MAGIC.length + 1 || !Arrays.equals(header, 0, MAGIC.length, MAGIC, 0, MAGIC.length)
                    || header[MAGIC.length] != VERSION) {
                throw invalid();
            }
            AesGcmHkdfStreaming aead = new AesGcmHkdfStreaming(dataKey, "HmacSha256", 32, SEGMENT, 0);
            try (InputStream plain = aead.newDecryptingStream(file, associatedData(listingId, productArn));
                    OutputStream sink = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                byte[] buf = new byte[1 << 16];
                long total = 0;
                for (int n; (n = plain.read(buf)) > 0; ) {
                    total += n;
                    if (total > maxBytes) {
                        throw new AwsException("ClientError", 400, "ClientError: the product's artifact is larger than the volume.");
                    }
                    sink.write(buf, 0, n);
                }
            } catch (IOException e) {
                // a tag that does not verify surfaces as an IOException from the decrypting stream
                Files.deleteIfExists(target);
                throw invalid();
            } catch (AwsException e) {
                Files.deleteIfExists(target);
                throw e;
            }
        } catch (GeneralSecurityException e) {
            throw invalid();
        } finally {
            Arrays.fill(dataKey, (byte) 0);
        }
    }

    private static AwsException invalid() {
        return new AwsException("ClientError", 400, "ClientError: the product's sealed artifact does not open (altered or not this listing's).");
    }

    /** Removes a withdrawn listing's sealed artifact (nothing may open it again). */
    void delete(String listingId) throws IOException {
        Files.deleteIfExists(file(listingId));
    }

    static byte[] associatedData(String listingId, String productArn) {
        byte[] id = listingId.getBytes(StandardCharsets.UTF_8);
        byte[] product = productArn.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(AAD_PREFIX.length + id.length + 1 + product.length).put(AAD_PREFIX).put(id).put((byte) 0).put(product)
                .array();
    }
}

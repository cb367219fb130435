package dev.citadel.services.s3;

import dev.citadel.metadata.kms.KmsRepository.Key;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.SeekableByteChannel;
import java.util.List;
import java.util.Map;

/**
 * Where object contents live: sealed blobs ({@link dev.citadel.services.kms.SealedBlobs}), each
 * named by a random id that says nothing about the object. Plaintext never reaches an
 * implementation's storage: a blob is sealed before it is stored and opened after it is fetched.
 * A write is durable when it returns, and a crash leaves the whole blob or none.
 *
 * <p>{@link LocalBlobStore} keeps them in a local directory (the embedded default);
 * a remote implementation keeps them as objects of any S3-compatible service, for scale-out.
 */
public interface BlobStore {
    /** What a write stored: the blob's id, the plaintext's length and its MD5 (an S3 ETag) and SHA-256. */
    record Written(String blobId, long length, String md5Hex, String sha256Hex) {
    }

    /**
     * Seals everything {@code plaintext} yields under {@code key}, bound to {@code context}, and
     * stores it durably. If reading the input fails, nothing is left behind.
     */
    Written write(InputStream plaintext, Key key, Map<String, String> context) throws IOException;

    /** The plaintext of a stored blob as a seekable channel (decrypting only what is read). */
    SeekableByteChannel read(String blobId, Map<String, String> context) throws IOException;

    boolean exists(String blobId) throws IOException;

    /** Removes a blob durably; returns whether it existed. */
    boolean delete(String blobId) throws IOException;

    /** Removes what interrupted writes left; returns how many. Run at start, before serving. */
    int recover() throws IOException;

    /** Every stored blob id (for a consistency check against the metadata). */
    List<String> ids() throws IOException;
}

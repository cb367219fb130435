package dev.citadel.server.blobs;

import static java.util.Objects.requireNonNull;

import dev.citadel.core.ReadOnlyChannel;
import dev.citadel.metadata.kms.KmsRepository.Key;
import dev.citadel.server.config.BlobStoreConfig;
import dev.citadel.server.config.ConfigException;
import dev.citadel.server.fs.SecureFiles;
import dev.citadel.server.tls.Pem;
import dev.citadel.services.kms.SealedBlobs;
import dev.citadel.services.s3.BlobStore;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

/**
 * The scale-out store of object contents: each one a sealed blob ({@link SealedBlobs}; never
 * plaintext) kept as an object {@code <prefix><id[0..2]>/<id>} in a bucket of any S3-compatible
 * service, so that several Citadel nodes share one store. The id is random and says nothing about
 * the S3 object it holds.
 *
 * <p>A write seals into a spool file (0600, in a private directory, deleted on every path), then
 * uploads it with its length known: one PutObject up to the part size, a multipart upload of
 * part-size parts (CRC32 per part) above it. It returns once the service has acknowledged the whole
 * blob, which the service then holds durably and atomically: a failed or interrupted write leaves
 * no object, only possibly an unfinished multipart upload that {@link #recover} aborts. A read
 * learns the size with HeadObject and serves the decrypting channel from ranged GetObjects of a
 * read-ahead window, so a range read fetches and decrypts only the segments it touches.
 *
 * <p>{@link #recover} and the sweep that uses {@link #ids} assume that no other writer is active
 * under the prefix while they run (at start, before serving); each deployment gets its own prefix.
 * Service failures are {@link IOException}s naming the operation and the blob; credentials appear in
 * none. The store owns its client: {@link #close} releases it.
 */
public final class RemoteBlobStore implements BlobStore, AutoCloseable {
    /** Parts of 64 MiB: a 5 GiB object and its sealing overhead upload in 81 requests. */
    public static final long DEFAULT_PART_SIZE = 64L << 20;
    /** Four of the sealed format's 1 MiB segments per ranged GET. */
    public static final int DEFAULT_READ_AHEAD = 4 << 20;
    private static final long MIN_PART_SIZE = 5L << 20;
    private static final long MAX_PART_SIZE = 5L << 30;
    private static final int MAX_PARTS = 10_000;
    private static final Pattern ID = Pattern.compile("[0-9a-f]{32}");
    private static final String SPOOL_SUFFIX = ".sealing";
    private static final String CONTENT_TYPE = "application/octet-stream";

    private final S3Client s3;
    private final String bucket;
    private final String prefix;
    private final Path spool;
    private final SealedBlobs blobs;
    private final long partSize;
    private final int readAhead;

    /** Takes ownership of {@code s3}. {@code spool} is created 0700 if needed. */
    public RemoteBlobStore(S3Client s3, String bucket, String prefix, Path spool, SealedBlobs blobs, long partSize, int readAhead) {
        this.s3 = requireNonNull(s3, "s3 is null");
        this.bucket = requireNonNull(bucket, "bucket is null");
        this.prefix = requireNonNull(prefix, "prefix is null");
        this.spool = requireNonNull(spool, "spool is null");
        this.blobs = requireNonNull(blobs, "blobs is null");
        if (partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
            throw new IllegalArgumentException("partSize must be between 5 MiB and 5 GiB");
        }
        if (readAhead < (64 << 10)) {
            throw new IllegalArgumentException("readAhead must be at least 64 KiB");
        }
        this.partSize = partSize;
        this.readAhead = readAhead;
        SecureFiles.createPrivateDirectory(spool);
    }

    /** A store for the configured service, with a client of its own (Apache HTTP, path-style, the configured trust). */
    public static RemoteBlobStore open(BlobStoreConfig.Remote config, Path spool, SealedBlobs blobs) {
        return new RemoteBlobStore(client(config), config.bucket(), config.prefix(), spool, blobs, DEFAULT_PART_SIZE, DEFAULT_READ_AHEAD);
    }

    /** An S3 client configured only from {@code config}: no profile file, environment credentials or default endpoint apply. */
    public static S3Client client(BlobStoreConfig.Remote config) {
        ApacheHttpClient.Builder http = ApacheHttpClient.builder()
                .connectionTimeout(Duration.ofSeconds(10))
                // CompleteMultipartUpload may stay silent while the service assembles a large object.
                .socketTimeout(Duration.ofMinutes(5))
                .maxConnections(64);
        if (config.caFile().isPresent()) {
            TrustManager[] trust = trustManagers(config.caFile().get());
            http.tlsTrustManagersProvider(() -> trust);
        }
        return S3Client.builder()
                .httpClientBuilder(http)
                .endpointOverride(config.endpoint())
                .forcePathStyle(true)
                .region(Region.of(config.region()))
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(config.accessKeyId(), config.secretAccessKey().revealUtf8())))
                .overrideConfiguration(o -> o.defaultProfileFile(ProfileFile.aggregator().build()).defaultProfileName("citadel"))
                .build();
    }

    private static TrustManager[] trustManagers(Path caFile) {
        List<X509Certificate> certificates = Pem.readCertificates(caFile);
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            for (int i = 0; i < certificates.size(); i++) {
                store.setCertificateEntry("ca" + i, certificates.get(i));
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            return tmf.getTrustManagers();
        } catch (IOException | GeneralSecurityException e) {
            throw new ConfigException("cannot trust the certificates of s3.remote.ca-file " + caFile + ": " + e.getMessage());
        }
    }

    private String key(String blobId) {
        if (!ID.matcher(blobId).matches()) {
            throw new IllegalArgumentException("not a blob id");
        }
        return prefix + blobId.substring(0, 2) + "/" + blobId;
    }

    /** The blob id of an object key under the prefix, if it is one. */
    private Optional<String> idOf(String objectKey) {
        if (!objectKey.startsWith(prefix) || objectKey.length() != prefix.length() + 35) {
            return Optional.empty();
        }
        String rest = objectKey.substring(prefix.length());
        String id = rest.substring(3);
        return rest.charAt(2) == '/' && ID.matcher(id).matches() && id.startsWith(rest.substring(0, 2)) ? Optional.of(id) : Optional.empty();
    }

    @Override
    public Written write(InputStream plaintext, Key key, Map<String, String> context) throws IOException {
        String id = UUID.randomUUID().toString().replace("-", "");
        String objectKey = key(id);
        Path spooled = spool.resolve(id + SPOOL_SUFFIX);
        MessageDigest md5 = digest("MD5");
        MessageDigest sha256 = digest("SHA-256");
        long length = 0;
        try {
            try (FileChannel file = FileChannel.open(spooled, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                    OutputStream sealed = blobs.seal(new BufferedOutputStream(Channels.newOutputStream(file), 1 << 16), key, context);
                    InputStream in = new DigestInputStream(new DigestInputStream(plaintext, md5), sha256)) {
                byte[] buffer = new byte[1 << 16];
                int n;
                while ((n = in.read(buffer)) > 0) {
                    sealed.write(buffer, 0, n);
                    length += n;
                }
            }
            upload(objectKey, spooled, Files.size(spooled));
        } finally {
            Files.deleteIfExists(spooled);
        }
        HexFormat hex = HexFormat.of();
        return new Written(id, length, hex.formatHex(md5.digest()), hex.formatHex(sha256.digest()));
    }

    private void upload(String objectKey, Path file, long size) throws IOException {
        if (size <= partSize) {
            try (FileSlice body = new FileSlice(file, 0, size)) {
                s3.putObject(b -> b.bucket(bucket).key(objectKey).contentLength(size).contentType(CONTENT_TYPE),
                        RequestBody.fromContentProvider(body, size, CONTENT_TYPE));
            } catch (SdkException e) {
                throw failure("PutObject", objectKey, e);
            }
            return;
        }
        long part = Math.max(partSize, (size + MAX_PARTS - 1) / MAX_PARTS);
        String uploadId;
        try {
            uploadId = s3.createMultipartUpload(b -> b.bucket(bucket).key(objectKey).contentType(CONTENT_TYPE)
                    .checksumAlgorithm(ChecksumAlgorithm.CRC32)).uploadId();
        } catch (SdkException e) {
            throw failure("CreateMultipartUpload", objectKey, e);
        }
        boolean completed = false;
        try {
            List<CompletedPart> parts = new ArrayList<>();
            for (long offset = 0; offset < size; offset += part) {
                int number = parts.size() + 1;
                long length = Math.min(part, size - offset);
                UploadPartResponse r;
                try (FileSlice body = new FileSlice(file, offset, length)) {
                    r = s3.uploadPart(b -> b.bucket(bucket).key(objectKey).uploadId(uploadId).partNumber(number)
                            .contentLength(length).checksumAlgorithm(ChecksumAlgorithm.CRC32),
                            RequestBody.fromContentProvider(body, length, CONTENT_TYPE));
                }
                parts.add(CompletedPart.builder().partNumber(number).eTag(r.eTag()).checksumCRC32(r.checksumCRC32()).build());
            }
            s3.completeMultipartUpload(b -> b.bucket(bucket).key(objectKey).uploadId(uploadId).multipartUpload(m -> m.parts(parts)));
            completed = true;
        } catch (SdkException e) {
            throw failure("multipart upload", objectKey, e);
        } finally {
            if (!completed) {
                abortQuietly(objectKey, uploadId);
            }
        }
    }

    private void abortQuietly(String objectKey, String uploadId) {
        try {
            s3.abortMultipartUpload(b -> b.bucket(bucket).key(objectKey).uploadId(uploadId));
        } catch (SdkException e) {
            // The upload stays until the next start's recover() aborts it; the write itself has already failed.
        }
    }

    @Override
    public SeekableByteChannel read(String blobId, Map<String, String> context) throws IOException {
        String objectKey = key(blobId);
        HeadObjectResponse head = head(objectKey).orElseThrow(() -> new NoSuchFileException("blob " + blobId));
        RangedChannel source = new RangedChannel(objectKey, head.contentLength());
        try {
            return blobs.open(source, context);
        } catch (IOException | RuntimeException e) {
            source.close();
            throw e;
        }
    }

    @Override
    public boolean exists(String blobId) throws IOException {
        return head(key(blobId)).isPresent();
    }

    @Override
    public boolean delete(String blobId) throws IOException {
        String objectKey = key(blobId);
        if (head(objectKey).isEmpty()) {
            return false;
        }
        try {
            s3.deleteObject(b -> b.bucket(bucket).key(objectKey));
        } catch (SdkException e) {
            throw failure("DeleteObject", objectKey, e);
        }
        return true;
    }

    /** Removes spool files a crash left and aborts the multipart uploads left under the prefix. */
    @Override
    public int recover() throws IOException {
        int removed = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(spool, "*" + SPOOL_SUFFIX)) {
            for (Path f : files) {
                if (Files.deleteIfExists(f)) {
                    removed++;
                }
            }
        }
        List<MultipartUpload> abandoned = new ArrayList<>();
        try {
            for (MultipartUpload u : s3.listMultipartUploadsPaginator(b -> b.bucket(bucket).prefix(prefix)).uploads()) {
                if (idOf(u.key()).isPresent()) {
                    abandoned.add(u);
                }
            }
            for (MultipartUpload u : abandoned) {
                s3.abortMultipartUpload(b -> b.bucket(bucket).key(u.key()).uploadId(u.uploadId()));
                removed++;
            }
        } catch (SdkException e) {
            throw failure("recovery (ListMultipartUploads, AbortMultipartUpload)", prefix, e);
        }
        return removed;
    }

    @Override
    public List<String> ids() throws IOException {
        List<String> out = new ArrayList<>();
        try {
            for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents()) {
                idOf(o.key()).ifPresent(out::add);
            }
        } catch (SdkException e) {
            throw failure("ListObjectsV2", prefix, e);
        }
        return out;
    }

    @Override
    public void close() {
        s3.close();
    }

    private Optional<HeadObjectResponse> head(String objectKey) throws IOException {
        try {
            return Optional.of(s3.headObject(b -> b.bucket(bucket).key(objectKey)));
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw failure("HeadObject", objectKey, e);
        } catch (SdkException e) {
            throw failure("HeadObject", objectKey, e);
        }
    }

    private IOException failure(String operation, String objectKey, SdkException e) {
        String code = e instanceof S3Exception s && s.awsErrorDetails() != null && s.awsErrorDetails().errorCode() != null
                ? s.awsErrorDetails().errorCode() + ": " : "";
        return new IOException("the remote blob store (bucket " + bucket + ") failed " + operation + " of " + objectKey + ": " + code
                + e.getMessage(), e);
    }

    private static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A read-only view of one remote blob: reads are served from a window of up to
     * {@code readAhead} bytes fetched with one ranged GetObject, refetched when a read falls
     * outside it. The object's id is never reused, so its bytes cannot change under the reader.
     */
    private final class RangedChannel extends ReadOnlyChannel {
        private final String objectKey;
        private final long size;
        private byte[] window;
        private long windowStart;
        private int windowLength;

        RangedChannel(String objectKey, long size) {
            this.objectKey = objectKey;
            this.size = size;
        }

        @Override
        protected int readAt(long position, ByteBuffer dst) throws IOException {
            if (window == null || position < windowStart || position >= windowStart + windowLength) {
                fetch(position);
            }
            int offset = (int) (position - windowStart);
            int n = Math.min(dst.remaining(), windowLength - offset);
            dst.put(window, offset, n);
            return n;
        }

        private void fetch(long from) throws IOException {
            long end = Math.min(size, from + readAhead);
            int want = (int) (end - from);
            if (window == null) {
                window = new byte[(int) Math.min(readAhead, size)];
            }
            String range = "bytes=" + from + "-" + (end - 1);
            windowLength = 0;
            try (ResponseInputStream<GetObjectResponse> in = s3.getObject(b -> b.bucket(bucket).key(objectKey).range(range))) {
                String contentRange = in.response().contentRange();
                if ((contentRange == null && from != 0) || (contentRange != null && !contentRange.startsWith("bytes " + from + "-"))) {
                    in.abort();
                    throw new IOException("the remote blob store answered " + range + " of " + objectKey + " with " + contentRange);
                }
                int n = in.readNBytes(window, 0, want);
                if (n != want) {
                    in.abort();
                    throw new IOException("the remote blob store returned " + n + " of the " + want + " bytes of " + range + " of " + objectKey);
                }
            } catch (S3Exception e) {
                if (e.statusCode() == 404) {
                    throw new NoSuchFileException("blob " + objectKey.substring(objectKey.length() - 32));
                }
                throw failure("GetObject " + range, objectKey, e);
            } catch (SdkException e) {
                throw failure("GetObject " + range, objectKey, e);
            }
            windowStart = from;
            windowLength = want;
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        protected void release() {
            window = null;
        }
    }

    /**
     * {@code length} bytes of a file from {@code offset}, as a request body the client may open
     * more than once (a retry, a checksum pass); each new stream closes the one before, and
     * closing the slice closes the last.
     */
    private static final class FileSlice implements ContentStreamProvider, AutoCloseable {
        private final Path file;
        private final long offset;
        private final long length;
        private InputStream current;

        FileSlice(Path file, long offset, long length) {
            this.file = file;
            this.offset = offset;
            this.length = length;
        }

        @Override
        public synchronized InputStream newStream() {
            try {
                close();
                FileChannel channel = FileChannel.open(file, StandardOpenOption.READ).position(offset);
                current = new java.io.BufferedInputStream(new BoundedInputStream(Channels.newInputStream(channel), length), 1 << 16);
                return current;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        @Override
        public synchronized void close() throws IOException {
            if (current != null) {
                current.close();
                current = null;
            }
        }
    }

    /** At most {@code remaining} bytes of a stream; closing it closes the stream. */
    private static final class BoundedInputStream extends java.io.FilterInputStream {
        private long remaining;

        BoundedInputStream(InputStream in, long remaining) {
            super(in);
            this.remaining = remaining;
        }

        @Override
        public int read() throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int b = super.read();
            if (b >= 0) {
                remaining--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int n = super.read(b, off, (int) Math.min(len, remaining));
            if (n > 0) {
                remaining -= n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long skipped = super.skip(Math.min(n, remaining));
            remaining -= skipped;
            return skipped;
        }

        @Override
        public int available() throws IOException {
            return (int) Math.min(super.available(), remaining);
        }

        @Override
        public boolean markSupported() {
            return false;
        }
    }
}

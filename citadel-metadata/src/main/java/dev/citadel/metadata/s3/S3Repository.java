package dev.citadel.metadata.s3;

import static dev.citadel.metadata.internal.Sql.execute;
import static dev.citadel.metadata.internal.Sql.instant;
import static java.util.Objects.requireNonNull;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * S3 buckets and the versions of their objects. Keys compare byte-wise (listings are in UTF-8
 * binary order, as S3's). Every key has at most one latest version, which may be a delete marker;
 * a bucket that never had versioning enabled has only {@value #NULL_VERSION} versions.
 */
public final class S3Repository {
    public static final String BUCKET_NAME = "s3_buckets_pkey";
    /** The id of the version written while versioning is not enabled. */
    public static final String NULL_VERSION = "null";

    /**
     * @param versioning "" (never enabled), "Enabled" or "Suspended"
     * @param encryption the default encryption rule as JSON; empty for SSE-S3
     * @param tags       the tag set as a JSON object; empty when the bucket has none
     */
    public record Bucket(String name, String accountId, String region, Instant createdAt, String versioning, Optional<String> encryption,
            Optional<String> tags) {
        public Bucket(String name, String accountId, String region, Instant createdAt) {
            this(name, accountId, region, createdAt, "", Optional.empty(), Optional.empty());
        }
    }

    /**
     * How contents are sealed: the KMS key, the encryption S3 reports ("AES256" for SSE-S3,
     * "aws:kms" for SSE-KMS), and whether S3 Bucket Keys are on.
     */
    public record Encryption(String kmsKeyArn, String algorithm, boolean bucketKey) {
        public static final Encryption NONE = new Encryption("", "", false);

        public Encryption {
            requireNonNull(kmsKeyArn, "kmsKeyArn is null");
            requireNonNull(algorithm, "algorithm is null");
        }
    }

    /** One part of a multipart object's contents: the sealed blob of an upload's part. */
    public record StoredPart(String uploadId, int partNumber, String blobId, long size) {
    }

    /**
     * One version of an object, or a delete marker (no blob; size 0). Its contents are one blob,
     * or (a multipart object) its parts' blobs in order; listings leave a multipart object's parts
     * out (neither a blob nor parts), lookups of one version load them.
     *
     * @param tags     the tag set as a JSON object
     * @param checksum the additional checksum, {@code ALGORITHM:base64}
     * @param latest   whether it is its key's newest version (set by the repository)
     */
    public record S3Object(String bucket, String key, String versionId, boolean deleteMarker, String blobId, long size, String etag,
            String sha256, String contentType, String metadata, String tags, Encryption encryption, Optional<String> checksum,
            Instant lastModified, boolean latest, List<StoredPart> parts) {
        public S3Object {
            parts = List.copyOf(parts);
            requireNonNull(bucket, "bucket is null");
            requireNonNull(key, "key is null");
            requireNonNull(versionId, "versionId is null");
            requireNonNull(checksum, "checksum is null");
            requireNonNull(encryption, "encryption is null");
            if (deleteMarker ? blobId != null || !parts.isEmpty() : blobId != null && !parts.isEmpty()) {
                throw new IllegalArgumentException("a delete marker has no contents, and a version has one blob or its parts");
            }
        }

        /** A version whose contents are one blob. */
        public S3Object(String bucket, String key, String versionId, String blobId, long size, String etag, String sha256, String contentType,
                String metadata, String tags, Encryption encryption, Optional<String> checksum, Instant lastModified) {
            this(bucket, key, versionId, false, blobId, size, etag, sha256, contentType, metadata, tags, encryption, checksum, lastModified, true,
                    List.of());
        }

        /** Every blob holding this version's contents. */
        public List<String> blobIds() {
            return blobId != null ? List.of(blobId) : parts.stream().map(StoredPart::blobId).toList();
        }

        /** A delete marker for {@code key}. */
        public static S3Object deleteMarker(String bucket, String key, String versionId, Instant at) {
            return new S3Object(bucket, key, versionId, true, null, 0, "", "", "", "{}", "{}", Encryption.NONE, Optional.empty(), at, true,
                    List.of());
        }

        public S3Object withTags(String newTags) {
            return new S3Object(bucket, key, versionId, deleteMarker, blobId, size, etag, sha256, contentType, metadata, newTags, encryption,
                    checksum, lastModified, latest, parts);
        }
    }

    private final Handle h;

    public S3Repository(Handle handle) {
        this.h = requireNonNull(handle, "handle is null");
    }

    public void insertBucket(Bucket b) {
        execute(h.createUpdate("INSERT INTO s3_buckets (name, account_id, region, created_at) VALUES (:name, :account, :region, :at)")
                .bind("name", b.name()).bind("account", b.accountId()).bind("region", b.region()).bind("at", b.createdAt().toEpochMilli()));
    }

    public Optional<Bucket> bucket(String name) {
        return h.createQuery("SELECT * FROM s3_buckets WHERE name = :name").bind("name", name).map((rs, ctx) -> bucket(rs)).findOne();
    }

    public List<Bucket> buckets(String accountId) {
        return h.createQuery("SELECT * FROM s3_buckets WHERE account_id = :a ORDER BY name").bind("a", accountId)
                .map((rs, ctx) -> bucket(rs)).list();
    }

    private static Bucket bucket(ResultSet rs) throws SQLException {
        return new Bucket(rs.getString("name"), rs.getString("account_id"), rs.getString("region"), instant(rs, "created_at"),
                Optional.ofNullable(rs.getString("versioning")).orElse(""), Optional.ofNullable(rs.getString("encryption")),
                Optional.ofNullable(rs.getString("tags")));
    }

    /** The bucket's policy document, if it has one. */
    public Optional<String> bucketPolicy(String name) {
        return h.createQuery("SELECT policy FROM s3_buckets WHERE name = :name").bind("name", name).mapTo(String.class).findOne()
                .filter(p -> p != null && !p.isEmpty());
    }

    /** Sets or (with an empty value) removes the bucket's policy; returns whether the bucket exists. */
    public boolean setBucketPolicy(String name, Optional<String> policy) {
        return setColumn(name, "policy", policy.orElse(null));
    }

    /** Sets the bucket's versioning state ("Enabled" or "Suspended"). */
    public boolean setVersioning(String name, String status) {
        return setColumn(name, "versioning", status);
    }

    /** Sets or (with an empty value) resets the bucket's default encryption rule. */
    public boolean setEncryption(String name, Optional<String> rule) {
        return setColumn(name, "encryption", rule.orElse(null));
    }

    /** Sets or (with an empty value) removes the bucket's tag set. */
    public boolean setBucketTags(String name, Optional<String> tags) {
        return setColumn(name, "tags", tags.orElse(null));
    }

    private boolean setColumn(String name, String column, String value) {
        return execute(h.createUpdate("UPDATE s3_buckets SET " + column + " = :v WHERE name = :name").bind("v", value).bind("name", name)) == 1;
    }

    public boolean deleteBucket(String name) {
        return execute(h.createUpdate("DELETE FROM s3_buckets WHERE name = :name").bind("name", name)) == 1;
    }

    /** Whether the bucket holds any version or delete marker (S3 refuses to delete it then). */
    public boolean hasObjects(String bucket) {
        return h.createQuery("SELECT COUNT(*) FROM (SELECT 1 FROM s3_object_versions WHERE bucket = :b LIMIT 1) x").bind("b", bucket)
                .mapTo(Integer.class).one() > 0;
    }

    /**
     * Adds {@code o} as its key's latest version. A version with the same id (only ever the
     * {@value #NULL_VERSION} one) is replaced; returns the blob ids of what it replaced.
     */
    public List<String> putVersion(S3Object o) {
        lockBucket(o.bucket());
        List<String> replaced = removeVersion(o.bucket(), o.key(), o.versionId()).map(S3Object::blobIds).orElse(List.of());
        execute(h.createUpdate("UPDATE s3_object_versions SET latest = 0 WHERE bucket = :b AND object_key = :k AND latest = 1")
                .bind("b", o.bucket()).bind("k", o.key()));
        long seq = h.createQuery("SELECT COALESCE(MAX(seq), 0) + 1 FROM s3_object_versions WHERE bucket = :b AND object_key = :k")
                .bind("b", o.bucket()).bind("k", o.key()).mapTo(Long.class).one();
        execute(h.createUpdate("INSERT INTO s3_object_versions (bucket, object_key, version_id, seq, latest, delete_marker, blob_id, size, etag, "
                        + "sha256, content_type, metadata, tags, kms_key_arn, sse_algorithm, bucket_key, checksum, last_modified) VALUES (:b, :k, :v, :seq, "
                        + "1, :marker, :blob, :size, :etag, :sha, :type, :meta, :tags, :kms, :sse, :bk, :checksum, :at)")
                .bind("b", o.bucket()).bind("k", o.key()).bind("v", o.versionId()).bind("seq", seq).bind("marker", o.deleteMarker() ? 1 : 0)
                .bind("blob", o.blobId()).bind("size", o.size()).bind("etag", o.etag()).bind("sha", o.sha256()).bind("type", o.contentType())
                .bind("meta", o.metadata()).bind("tags", o.tags()).bind("kms", o.encryption().kmsKeyArn())
                .bind("sse", o.encryption().algorithm()).bind("bk", o.encryption().bucketKey() ? 1 : 0).bind("checksum", o.checksum().orElse(null))
                .bind("at", o.lastModified().toEpochMilli()));
        int index = 0;
        for (StoredPart p : o.parts()) {
            execute(h.createUpdate("INSERT INTO s3_version_parts (bucket, object_key, version_id, part_index, upload_id, part_number, blob_id, size) "
                            + "VALUES (:b, :k, :v, :i, :u, :n, :blob, :size)")
                    .bind("b", o.bucket()).bind("k", o.key()).bind("v", o.versionId()).bind("i", index++).bind("u", p.uploadId())
                    .bind("n", p.partNumber()).bind("blob", p.blobId()).bind("size", p.size()));
        }
        return replaced;
    }

    /**
     * Locks the bucket's row for the rest of the transaction, so that writers of its versions
     * queue on PostgreSQL (READ COMMITTED) instead of both seeing the same latest version and
     * sequence; SQLite's IMMEDIATE transactions queue them already.
     */
    private void lockBucket(String bucket) {
        execute(h.createUpdate("UPDATE s3_buckets SET name = name WHERE name = :b").bind("b", bucket));
    }

    /** Removes a version's rows (its parts first); returns it, with its parts. */
    private Optional<S3Object> removeVersion(String bucket, String key, String versionId) {
        Optional<S3Object> removed = version(bucket, key, versionId);
        if (removed.isPresent()) {
            execute(h.createUpdate("DELETE FROM s3_version_parts WHERE bucket = :b AND object_key = :k AND version_id = :v")
                    .bind("b", bucket).bind("k", key).bind("v", versionId));
            execute(h.createUpdate("DELETE FROM s3_object_versions WHERE bucket = :b AND object_key = :k AND version_id = :v")
                    .bind("b", bucket).bind("k", key).bind("v", versionId));
        }
        return removed;
    }

    private Optional<S3Object> withParts(Optional<S3Object> o) {
        return o.map(v -> v.deleteMarker() || v.blobId() != null ? v : new S3Object(v.bucket(), v.key(), v.versionId(), false, null, v.size(),
                v.etag(), v.sha256(), v.contentType(), v.metadata(), v.tags(), v.encryption(), v.checksum(), v.lastModified(), v.latest(),
                h.createQuery("SELECT * FROM s3_version_parts WHERE bucket = :b AND object_key = :k AND version_id = :v ORDER BY part_index")
                        .bind("b", v.bucket()).bind("k", v.key()).bind("v", v.versionId())
                        .map((rs, ctx) -> new StoredPart(rs.getString("upload_id"), rs.getInt("part_number"), rs.getString("blob_id"),
                                rs.getLong("size"))).list()));
    }

    /** The key's latest version, which may be a delete marker. */
    public Optional<S3Object> latest(String bucket, String key) {
        return withParts(h.createQuery("SELECT * FROM s3_object_versions WHERE bucket = :b AND object_key = :k AND latest = 1").bind("b", bucket)
                .bind("k", key).map((rs, ctx) -> object(rs)).findOne());
    }

    /** The key's current object: its latest version unless that is a delete marker. */
    public Optional<S3Object> object(String bucket, String key) {
        return latest(bucket, key).filter(o -> !o.deleteMarker());
    }

    public Optional<S3Object> version(String bucket, String key, String versionId) {
        return withParts(h.createQuery("SELECT * FROM s3_object_versions WHERE bucket = :b AND object_key = :k AND version_id = :v")
                .bind("b", bucket).bind("k", key).bind("v", versionId).map((rs, ctx) -> object(rs)).findOne());
    }

    /**
     * Removes one version for good; when it was the latest, the next newest becomes latest.
     * Returns what was removed.
     */
    public Optional<S3Object> deleteVersion(String bucket, String key, String versionId) {
        lockBucket(bucket);
        Optional<S3Object> removed = removeVersion(bucket, key, versionId);
        if (removed.isPresent() && removed.get().latest()) {
            execute(h.createUpdate("UPDATE s3_object_versions SET latest = 1 WHERE bucket = :b AND object_key = :k AND seq = "
                    + "(SELECT MAX(seq) FROM s3_object_versions WHERE bucket = :b AND object_key = :k)").bind("b", bucket).bind("k", key));
        }
        return removed;
    }

    /** Replaces a version's tag set; returns whether the version exists. */
    public boolean setObjectTags(String bucket, String key, String versionId, String tags) {
        return execute(h.createUpdate("UPDATE s3_object_versions SET tags = :tags WHERE bucket = :b AND object_key = :k AND version_id = :v "
                + "AND delete_marker = 0").bind("tags", tags).bind("b", bucket).bind("k", key).bind("v", versionId)) == 1;
    }

    /** Current objects (latest versions that are not delete markers) whose key starts with {@code prefix} and sorts after {@code after}, in key order. */
    public List<S3Object> list(String bucket, String prefix, String after, int limit) {
        return h.createQuery("SELECT * FROM s3_object_versions WHERE bucket = :b AND latest = 1 AND delete_marker = 0 AND object_key > :after "
                        + "AND substr(object_key, 1, :n) = :prefix ORDER BY object_key LIMIT :limit")
                .bind("b", bucket).bind("after", after).bind("n", prefix.length()).bind("prefix", prefix).bind("limit", limit)
                .map((rs, ctx) -> object(rs)).list();
    }

    /** A version in a listing, with its sequence within its key (to list on after it). */
    public record ListedVersion(S3Object version, long seq) {
    }

    /**
     * Versions and delete markers whose key starts with {@code prefix}, by key and then newest
     * first, starting after key {@code afterKey} and, within that key, after the version whose
     * sequence is {@code afterSeq} (0: after the whole key).
     */
    public List<ListedVersion> listVersions(String bucket, String prefix, String afterKey, long afterSeq, int limit) {
        return h.createQuery("SELECT * FROM s3_object_versions WHERE bucket = :b AND substr(object_key, 1, :n) = :prefix "
                        + "AND (object_key > :after OR (object_key = :after AND seq < :seq)) ORDER BY object_key, seq DESC LIMIT :limit")
                .bind("b", bucket).bind("n", prefix.length()).bind("prefix", prefix).bind("after", afterKey).bind("seq", afterSeq)
                .bind("limit", limit).map((rs, ctx) -> new ListedVersion(object(rs), rs.getLong("seq"))).list();
    }

    /** The sequence of a version within its key (for listing after it). */
    public Optional<Long> versionSeq(String bucket, String key, String versionId) {
        return h.createQuery("SELECT seq FROM s3_object_versions WHERE bucket = :b AND object_key = :k AND version_id = :v").bind("b", bucket)
                .bind("k", key).bind("v", versionId).mapTo(Long.class).findOne();
    }

    /** Every blob id the metadata refers to: object versions, multipart objects' parts and the parts of uploads in progress. */
    public List<String> blobIds() {
        return h.createQuery("SELECT blob_id FROM s3_object_versions WHERE blob_id IS NOT NULL UNION ALL SELECT blob_id FROM s3_version_parts "
                + "UNION ALL SELECT blob_id FROM s3_upload_parts").mapTo(String.class).list();
    }

    /**
     * @param encryption        how the parts and the object are sealed
     * @param checksumAlgorithm the additional checksum the parts carry (CRC32, CRC32C, SHA1, SHA256)
     * @param tags              the tag set the object gets, as a JSON object
     */
    public record Upload(String uploadId, String bucket, String key, String contentType, String metadata, Instant initiatedAt,
            Encryption encryption, Optional<String> checksumAlgorithm, String tags) {
    }

    /** @param checksum the part's additional checksum (base64), when its upload has an algorithm */
    public record Part(String uploadId, int partNumber, String blobId, long size, String etag, Instant uploadedAt, Optional<String> checksum) {
    }

    public void insertUpload(Upload u) {
        execute(h.createUpdate("INSERT INTO s3_uploads (upload_id, bucket, object_key, content_type, metadata, initiated_at, kms_key_arn, "
                        + "sse_algorithm, bucket_key, checksum_algorithm, tags) VALUES (:id, :b, :k, :type, :meta, :at, :kms, :sse, :bk, :alg, :tags)")
                .bind("id", u.uploadId()).bind("b", u.bucket()).bind("k", u.key()).bind("type", u.contentType()).bind("meta", u.metadata())
                .bind("at", u.initiatedAt().toEpochMilli()).bind("kms", u.encryption().kmsKeyArn())
                .bind("sse", u.encryption().algorithm()).bind("bk", u.encryption().bucketKey() ? 1 : 0).bind("alg", u.checksumAlgorithm().orElse(null))
                .bind("tags", u.tags()));
    }

    public Optional<Upload> upload(String uploadId) {
        return h.createQuery("SELECT * FROM s3_uploads WHERE upload_id = :id").bind("id", uploadId).map((rs, ctx) -> upload(rs)).findOne();
    }

    public List<Upload> uploads(String bucket) {
        return h.createQuery("SELECT * FROM s3_uploads WHERE bucket = :b ORDER BY object_key, initiated_at").bind("b", bucket)
                .map((rs, ctx) -> upload(rs)).list();
    }

    /** Records a part; returns the blob id of a part it replaced. */
    public Optional<String> putPart(Part p) {
        Optional<String> previous = h.createQuery("SELECT blob_id FROM s3_upload_parts WHERE upload_id = :id AND part_number = :n")
                .bind("id", p.uploadId()).bind("n", p.partNumber()).mapTo(String.class).findOne();
        execute(h.createUpdate("DELETE FROM s3_upload_parts WHERE upload_id = :id AND part_number = :n")
                .bind("id", p.uploadId()).bind("n", p.partNumber()));
        execute(h.createUpdate("INSERT INTO s3_upload_parts (upload_id, part_number, blob_id, size, etag, uploaded_at, checksum) "
                        + "VALUES (:id, :n, :blob, :size, :etag, :at, :checksum)")
                .bind("id", p.uploadId()).bind("n", p.partNumber()).bind("blob", p.blobId()).bind("size", p.size()).bind("etag", p.etag())
                .bind("at", p.uploadedAt().toEpochMilli()).bind("checksum", p.checksum().orElse(null)));
        return previous;
    }

    public List<Part> parts(String uploadId) {
        return h.createQuery("SELECT * FROM s3_upload_parts WHERE upload_id = :id ORDER BY part_number").bind("id", uploadId)
                .map((rs, ctx) -> new Part(rs.getString("upload_id"), rs.getInt("part_number"), rs.getString("blob_id"), rs.getLong("size"),
                        rs.getString("etag"), instant(rs, "uploaded_at"), Optional.ofNullable(rs.getString("checksum")))).list();
    }

    /** Removes an upload and its parts' rows; returns the parts' blob ids. */
    public List<String> deleteUpload(String uploadId) {
        List<String> blobs = parts(uploadId).stream().map(Part::blobId).toList();
        execute(h.createUpdate("DELETE FROM s3_upload_parts WHERE upload_id = :id").bind("id", uploadId));
        execute(h.createUpdate("DELETE FROM s3_uploads WHERE upload_id = :id").bind("id", uploadId));
        return blobs;
    }

    public boolean hasUploads(String bucket) {
        return h.createQuery("SELECT COUNT(*) FROM (SELECT 1 FROM s3_uploads WHERE bucket = :b LIMIT 1) x").bind("b", bucket)
                .mapTo(Integer.class).one() > 0;
    }

    private static Upload upload(ResultSet rs) throws SQLException {
        return new Upload(rs.getString("upload_id"), rs.getString("bucket"), rs.getString("object_key"), rs.getString("content_type"),
                rs.getString("metadata"), instant(rs, "initiated_at"),
                rs.getString("kms_key_arn") == null ? Encryption.NONE : new Encryption(rs.getString("kms_key_arn"), rs.getString("sse_algorithm"),
                        rs.getInt("bucket_key") == 1),
                Optional.ofNullable(rs.getString("checksum_algorithm")), Optional.ofNullable(rs.getString("tags")).orElse("{}"));
    }

    private static S3Object object(ResultSet rs) throws SQLException {
        return new S3Object(rs.getString("bucket"), rs.getString("object_key"), rs.getString("version_id"), rs.getInt("delete_marker") == 1,
                rs.getString("blob_id"), rs.getLong("size"), rs.getString("etag"), rs.getString("sha256"), rs.getString("content_type"),
                rs.getString("metadata"), rs.getString("tags"), new Encryption(rs.getString("kms_key_arn"), rs.getString("sse_algorithm"),
                rs.getInt("bucket_key") == 1), Optional.ofNullable(rs.getString("checksum")),
                instant(rs, "last_modified"), rs.getInt("latest") == 1, List.of());
    }
}

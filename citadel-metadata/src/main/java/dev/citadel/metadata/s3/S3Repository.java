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

/** S3 buckets and objects' metadata. Keys compare byte-wise (listings are in UTF-8 binary order, as S3's). */
public final class S3Repository {
    public static final String BUCKET_NAME = "s3_buckets_pkey";

    public record Bucket(String name, String accountId, String region, Instant createdAt) {
    }

    public record S3Object(String bucket, String key, String blobId, long size, String etag, String sha256, String contentType,
            String metadata, String kmsKeyArn, Instant lastModified) {
        public S3Object {
            requireNonNull(bucket, "bucket is null");
            requireNonNull(key, "key is null");
            requireNonNull(blobId, "blobId is null");
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
        return h.createQuery("SELECT * FROM s3_buckets WHERE name = :name").bind("name", name)
                .map((rs, ctx) -> new Bucket(rs.getString("name"), rs.getString("account_id"), rs.getString("region"), instant(rs, "created_at")))
                .findOne();
    }

    public List<Bucket> buckets(String accountId) {
        return h.createQuery("SELECT * FROM s3_buckets WHERE account_id = :a ORDER BY name").bind("a", accountId)
                .map((rs, ctx) -> new Bucket(rs.getString("name"), rs.getString("account_id"), rs.getString("region"), instant(rs, "created_at")))
                .list();
    }

    /** The bucket's policy document, if it has one. */
    public Optional<String> bucketPolicy(String name) {
        return h.createQuery("SELECT policy FROM s3_buckets WHERE name = :name").bind("name", name).mapTo(String.class).findOne()
                .filter(p -> p != null && !p.isEmpty());
    }

    /** Sets or (with an empty value) removes the bucket's policy; returns whether the bucket exists. */
    public boolean setBucketPolicy(String name, Optional<String> policy) {
        return execute(h.createUpdate("UPDATE s3_buckets SET policy = :policy WHERE name = :name").bind("policy", policy.orElse(null))
                .bind("name", name)) == 1;
    }

    public boolean deleteBucket(String name) {
        return execute(h.createUpdate("DELETE FROM s3_buckets WHERE name = :name").bind("name", name)) == 1;
    }

    public boolean hasObjects(String bucket) {
        return h.createQuery("SELECT COUNT(*) FROM (SELECT 1 FROM s3_objects WHERE bucket = :b LIMIT 1) x").bind("b", bucket)
                .mapTo(Integer.class).one() > 0;
    }

    /** Puts an object's metadata; returns the blob id it replaced, if any. */
    public Optional<String> putObject(S3Object o) {
        Optional<String> previous = object(o.bucket(), o.key()).map(S3Object::blobId);
        execute(h.createUpdate("DELETE FROM s3_objects WHERE bucket = :b AND object_key = :k").bind("b", o.bucket()).bind("k", o.key()));
        execute(h.createUpdate("INSERT INTO s3_objects (bucket, object_key, blob_id, size, etag, sha256, content_type, metadata, kms_key_arn, "
                        + "last_modified) VALUES (:b, :k, :blob, :size, :etag, :sha, :type, :meta, :kms, :at)")
                .bind("b", o.bucket()).bind("k", o.key()).bind("blob", o.blobId()).bind("size", o.size()).bind("etag", o.etag())
                .bind("sha", o.sha256()).bind("type", o.contentType()).bind("meta", o.metadata()).bind("kms", o.kmsKeyArn())
                .bind("at", o.lastModified().toEpochMilli()));
        return previous;
    }

    public Optional<S3Object> object(String bucket, String key) {
        return h.createQuery("SELECT * FROM s3_objects WHERE bucket = :b AND object_key = :k").bind("b", bucket).bind("k", key)
                .map((rs, ctx) -> object(rs)).findOne();
    }

    /** Deletes an object's metadata; returns its blob id. */
    public Optional<String> deleteObject(String bucket, String key) {
        Optional<String> blob = object(bucket, key).map(S3Object::blobId);
        execute(h.createUpdate("DELETE FROM s3_objects WHERE bucket = :b AND object_key = :k").bind("b", bucket).bind("k", key));
        return blob;
    }

    /** Objects whose key starts with {@code prefix} and sorts after {@code after}, in key order, at most {@code limit}. */
    public List<S3Object> list(String bucket, String prefix, String after, int limit) {
        return h.createQuery("SELECT * FROM s3_objects WHERE bucket = :b AND object_key > :after AND substr(object_key, 1, :n) = :prefix "
                        + "ORDER BY object_key LIMIT :limit")
                .bind("b", bucket).bind("after", after).bind("n", prefix.length()).bind("prefix", prefix).bind("limit", limit)
                .map((rs, ctx) -> object(rs)).list();
    }

    /** Every blob id the metadata refers to: objects and the parts of uploads in progress. */
    public List<String> blobIds() {
        return h.createQuery("SELECT blob_id FROM s3_objects UNION ALL SELECT blob_id FROM s3_upload_parts").mapTo(String.class).list();
    }

    public record Upload(String uploadId, String bucket, String key, String contentType, String metadata, Instant initiatedAt) {
    }

    public record Part(String uploadId, int partNumber, String blobId, long size, String etag, Instant uploadedAt) {
    }

    public void insertUpload(Upload u) {
        execute(h.createUpdate("INSERT INTO s3_uploads (upload_id, bucket, object_key, content_type, metadata, initiated_at) "
                        + "VALUES (:id, :b, :k, :type, :meta, :at)")
                .bind("id", u.uploadId()).bind("b", u.bucket()).bind("k", u.key()).bind("type", u.contentType()).bind("meta", u.metadata())
                .bind("at", u.initiatedAt().toEpochMilli()));
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
        execute(h.createUpdate("INSERT INTO s3_upload_parts (upload_id, part_number, blob_id, size, etag, uploaded_at) "
                        + "VALUES (:id, :n, :blob, :size, :etag, :at)")
                .bind("id", p.uploadId()).bind("n", p.partNumber()).bind("blob", p.blobId()).bind("size", p.size()).bind("etag", p.etag())
                .bind("at", p.uploadedAt().toEpochMilli()));
        return previous;
    }

    public List<Part> parts(String uploadId) {
        return h.createQuery("SELECT * FROM s3_upload_parts WHERE upload_id = :id ORDER BY part_number").bind("id", uploadId)
                .map((rs, ctx) -> new Part(rs.getString("upload_id"), rs.getInt("part_number"), rs.getString("blob_id"), rs.getLong("size"),
                        rs.getString("etag"), instant(rs, "uploaded_at"))).list();
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
                rs.getString("metadata"), instant(rs, "initiated_at"));
    }

    private static S3Object object(ResultSet rs) throws SQLException {
        return new S3Object(rs.getString("bucket"), rs.getString("object_key"), rs.getString("blob_id"), rs.getLong("size"),
                rs.getString("etag"), rs.getString("sha256"), rs.getString("content_type"), rs.getString("metadata"),
                rs.getString("kms_key_arn"), instant(rs, "last_modified"));
    }
}

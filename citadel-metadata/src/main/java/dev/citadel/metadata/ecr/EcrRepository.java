package dev.citadel.metadata.ecr;

import static dev.citadel.metadata.internal.Sql.execute;
import static java.util.Objects.requireNonNull;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/** The registry's repositories, blobs, images, tags and uploads (V16). */
public final class EcrRepository {
    /** A repository of that name exists in the account. */
    public static final String REPOSITORY_NAME = "ecr_repositories_pkey";

    /** @param tags the resource tags as a JSON object; @param policy the repository policy document */
    public record Repo(String accountId, String name, String arn, Instant createdAt, String tagMutability, boolean scanOnPush,
            String encryptionType, String kmsKeyArn, Optional<String> policy, String tags) {
        public Repo {
            requireNonNull(accountId, "accountId is null");
            requireNonNull(name, "name is null");
            requireNonNull(policy, "policy is null");
        }

        /** The same repository with new settings (what UpdateRepository may change). */
        public Repo with(String tagMutability, boolean scanOnPush, Optional<String> policy, String tags) {
            return new Repo(accountId, name, arn, createdAt, tagMutability, scanOnPush, encryptionType, kmsKeyArn, policy, tags);
        }
    }

    /** A blob (layer or config) of a repository: its digest, plaintext size and its sealed parts ({@code [{"blob","size"}]}). */
    public record Blob(String accountId, String repository, String digest, long size, String parts, Instant pushedAt) {
    }

    /** An image: its manifest (sealed, as parts), what it is, and its latest scan. */
    public record Image(String accountId, String repository, String digest, String mediaType, String artifactType, String manifestParts,
            long manifestSize, long imageSize, Instant pushedAt, Optional<Instant> lastPulledAt, String scanStatus, String scanDescription,
            String scanFindings, Optional<Instant> scanCompletedAt) {
    }

    /** An upload in progress: the chunks received so far. */
    public record Upload(String uploadId, String accountId, String repository, String parts, long size, Instant createdAt) {
    }

    private final Handle h;

    public EcrRepository(Handle handle) {
        this.h = requireNonNull(handle, "handle is null");
    }

    // ---- repositories ----

    public void insertRepository(Repo r) {
        execute(h.createUpdate("INSERT INTO ecr_repositories (account_id, name, arn, created_at, tag_mutability, scan_on_push, encryption_type, "
                        + "kms_key_arn, policy, tags) VALUES (:a, :n, :arn, :c, :m, :s, :e, :k, :p, :t)")
                .bind("a", r.accountId()).bind("n", r.name()).bind("arn", r.arn()).bind("c", r.createdAt().toEpochMilli())
                .bind("m", r.tagMutability()).bind("s", r.scanOnPush() ? 1 : 0).bind("e", r.encryptionType()).bind("k", r.kmsKeyArn())
                .bind("p", r.policy().orElse(null)).bind("t", r.tags()));
    }

    /** Replaces the mutable settings of a repository: tag mutability, scan on push, policy, tags. */
    public boolean updateRepository(Repo r) {
        return execute(h.createUpdate("UPDATE ecr_repositories SET tag_mutability = :m, scan_on_push = :s, policy = :p, tags = :t "
                        + "WHERE account_id = :a AND name = :n")
                .bind("a", r.accountId()).bind("n", r.name()).bind("m", r.tagMutability()).bind("s", r.scanOnPush() ? 1 : 0)
                .bind("p", r.policy().orElse(null)).bind("t", r.tags())) == 1;
    }

    public Optional<Repo> repository(String accountId, String name) {
        return h.createQuery("SELECT * FROM ecr_repositories WHERE account_id = :a AND name = :n").bind("a", accountId).bind("n", name)
                .map((rs, ctx) -> repo(rs)).findOne();
    }

    public List<Repo> repositories(String accountId) {
        return h.createQuery("SELECT * FROM ecr_repositories WHERE account_id = :a ORDER BY name").bind("a", accountId)
                .map((rs, ctx) -> repo(rs)).list();
    }

    /** Deletes a repository with everything in it; returns the parts (JSON arrays) whose sealed blobs are no longer referenced. */
    public List<String> deleteRepository(String accountId, String name) {
        List<String> parts = new ArrayList<>();
        parts.addAll(h.createQuery("SELECT parts FROM ecr_blobs WHERE account_id = :a AND repository = :n").bind("a", accountId).bind("n", name)
                .mapTo(String.class).list());
        parts.addAll(h.createQuery("SELECT manifest_parts FROM ecr_images WHERE account_id = :a AND repository = :n").bind("a", accountId)
                .bind("n", name).mapTo(String.class).list());
        parts.addAll(h.createQuery("SELECT parts FROM ecr_uploads WHERE account_id = :a AND repository = :n").bind("a", accountId)
                .bind("n", name).mapTo(String.class).list());
        for (String table : List.of("ecr_tags", "ecr_images", "ecr_blobs", "ecr_uploads")) {
            execute(h.createUpdate("DELETE FROM " + table + " WHERE account_id = :a AND repository = :n").bind("a", accountId).bind("n", name));
        }
        execute(h.createUpdate("DELETE FROM ecr_repositories WHERE account_id = :a AND name = :n").bind("a", accountId).bind("n", name));
        return parts;
    }

    public int imageCount(String accountId, String name) {
        return h.createQuery("SELECT COUNT(*) FROM ecr_images WHERE account_id = :a AND repository = :n").bind("a", accountId).bind("n", name)
                .mapTo(Integer.class).one();
    }

    // ---- blobs ----

    /** Records a blob; false when the repository already has it (the new parts are then unreferenced). */
    public boolean putBlob(Blob b) {
        if (blob(b.accountId(), b.repository(), b.digest()).isPresent()) {
            return false;
        }
        execute(h.createUpdate("INSERT INTO ecr_blobs (account_id, repository, digest, size, parts, pushed_at) VALUES (:a, :r, :d, :s, :p, :t)")
                .bind("a", b.accountId()).bind("r", b.repository()).bind("d", b.digest()).bind("s", b.size()).bind("p", b.parts())
                .bind("t", b.pushedAt().toEpochMilli()));
        return true;
    }

    public Optional<Blob> blob(String accountId, String repository, String digest) {
        return h.createQuery("SELECT * FROM ecr_blobs WHERE account_id = :a AND repository = :r AND digest = :d").bind("a", accountId)
                .bind("r", repository).bind("d", digest)
                .map((rs, ctx) -> new Blob(rs.getString("account_id"), rs.getString("repository"), rs.getString("digest"), rs.getLong("size"),
                        rs.getString("parts"), Instant.ofEpochMilli(rs.getLong("pushed_at"))))
                .findOne();
    }

    // ---- images and tags ----

    /** Records an image; false when the repository already has one of that digest. */
    public boolean putImage(Image i) {
        if (image(i.accountId(), i.repository(), i.digest()).isPresent()) {
            return false;
        }
        execute(h.createUpdate("INSERT INTO ecr_images (account_id, repository, digest, media_type, artifact_type, manifest_parts, "
                        + "manifest_size, image_size, pushed_at, last_pulled_at, scan_status, scan_description, scan_findings, scan_completed_at) "
                        + "VALUES (:a, :r, :d, :m, :at, :p, :ms, :is, :t, NULL, :ss, :sd, :sf, NULL)")
                .bind("a", i.accountId()).bind("r", i.repository()).bind("d", i.digest()).bind("m", i.mediaType()).bind("at", i.artifactType())
                .bind("p", i.manifestParts()).bind("ms", i.manifestSize()).bind("is", i.imageSize()).bind("t", i.pushedAt().toEpochMilli())
                .bind("ss", i.scanStatus()).bind("sd", i.scanDescription()).bind("sf", i.scanFindings()));
        return true;
    }

    public Optional<Image> image(String accountId, String repository, String digest) {
        return h.createQuery("SELECT * FROM ecr_images WHERE account_id = :a AND repository = :r AND digest = :d").bind("a", accountId)
                .bind("r", repository).bind("d", digest).map((rs, ctx) -> image(rs)).findOne();
    }

    public List<Image> images(String accountId, String repository) {
        return h.createQuery("SELECT * FROM ecr_images WHERE account_id = :a AND repository = :r ORDER BY pushed_at, digest").bind("a", accountId)
                .bind("r", repository).map((rs, ctx) -> image(rs)).list();
    }

    /** Deletes an image and its tags; returns its manifest parts, or empty when there was no such image. */
    public Optional<String> deleteImage(String accountId, String repository, String digest) {
        Optional<Image> i = image(accountId, repository, digest);
        if (i.isEmpty()) {
            return Optional.empty();
        }
        execute(h.createUpdate("DELETE FROM ecr_tags WHERE account_id = :a AND repository = :r AND digest = :d").bind("a", accountId)
                .bind("r", repository).bind("d", digest));
        execute(h.createUpdate("DELETE FROM ecr_images WHERE account_id = :a AND repository = :r AND digest = :d").bind("a", accountId)
                .bind("r", repository).bind("d", digest));
        return Optional.of(i.get().manifestParts());
    }

    public void setScan(String accountId, String repository, String digest, String status, String description, String findings,
            Optional<Instant> completedAt) {
        execute(h.createUpdate("UPDATE ecr_images SET scan_status = :s, scan_description = :d, scan_findings = :f, scan_completed_at = :c "
                        + "WHERE account_id = :a AND repository = :r AND digest = :g")
                .bind("s", status).bind("d", description).bind("f", findings).bind("c", completedAt.map(Instant::toEpochMilli).orElse(null))
                .bind("a", accountId).bind("r", repository).bind("g", digest));
    }

    public void touchPulled(String accountId, String repository, String digest, Instant at) {
        execute(h.createUpdate("UPDATE ecr_images SET last_pulled_at = :t WHERE account_id = :a AND repository = :r AND digest = :d")
                .bind("t", at.toEpochMilli()).bind("a", accountId).bind("r", repository).bind("d", digest));
    }

    public Optional<String> tag(String accountId, String repository, String tag) {
        return h.createQuery("SELECT digest FROM ecr_tags WHERE account_id = :a AND repository = :r AND tag = :t").bind("a", accountId)
                .bind("r", repository).bind("t", tag).mapTo(String.class).findOne();
    }

    public void setTag(String accountId, String repository, String tag, String digest) {
        execute(h.createUpdate("DELETE FROM ecr_tags WHERE account_id = :a AND repository = :r AND tag = :t").bind("a", accountId)
                .bind("r", repository).bind("t", tag));
        execute(h.createUpdate("INSERT INTO ecr_tags (account_id, repository, tag, digest) VALUES (:a, :r, :t, :d)").bind("a", accountId)
                .bind("r", repository).bind("t", tag).bind("d", digest));
    }

    public boolean deleteTag(String accountId, String repository, String tag) {
        return execute(h.createUpdate("DELETE FROM ecr_tags WHERE account_id = :a AND repository = :r AND tag = :t").bind("a", accountId)
                .bind("r", repository).bind("t", tag)) == 1;
    }

    /** The tags of one image, sorted. */
    public List<String> tagsOf(String accountId, String repository, String digest) {
        return h.createQuery("SELECT tag FROM ecr_tags WHERE account_id = :a AND repository = :r AND digest = :d ORDER BY tag")
                .bind("a", accountId).bind("r", repository).bind("d", digest).mapTo(String.class).list();
    }

    /** Every tag of the repository, sorted. */
    public List<String> tags(String accountId, String repository) {
        return h.createQuery("SELECT tag FROM ecr_tags WHERE account_id = :a AND repository = :r ORDER BY tag").bind("a", accountId)
                .bind("r", repository).mapTo(String.class).list();
    }

    // ---- uploads ----

    public void insertUpload(Upload u) {
        execute(h.createUpdate("INSERT INTO ecr_uploads (upload_id, account_id, repository, parts, size, created_at) VALUES (:u, :a, :r, :p, :s, :c)")
                .bind("u", u.uploadId()).bind("a", u.accountId()).bind("r", u.repository()).bind("p", u.parts()).bind("s", u.size())
                .bind("c", u.createdAt().toEpochMilli()));
    }

    public Optional<Upload> upload(String uploadId) {
        return h.createQuery("SELECT * FROM ecr_uploads WHERE upload_id = :u").bind("u", uploadId)
                .map((rs, ctx) -> new Upload(rs.getString("upload_id"), rs.getString("account_id"), rs.getString("repository"),
                        rs.getString("parts"), rs.getLong("size"), Instant.ofEpochMilli(rs.getLong("created_at"))))
                .findOne();
    }

    /** Moves an upload on from {@code expectedSize} (so two concurrent chunks cannot both land at one offset). */
    public boolean advanceUpload(String uploadId, long expectedSize, String parts, long size) {
        return execute(h.createUpdate("UPDATE ecr_uploads SET parts = :p, size = :s WHERE upload_id = :u AND size = :e").bind("p", parts)
                .bind("s", size).bind("u", uploadId).bind("e", expectedSize)) == 1;
    }

    public boolean deleteUpload(String uploadId) {
        return execute(h.createUpdate("DELETE FROM ecr_uploads WHERE upload_id = :u").bind("u", uploadId)) == 1;
    }

    /** Deletes the uploads started before {@code before} (abandoned); returns their parts. */
    public List<String> deleteUploadsBefore(Instant before) {
        List<String> parts = h.createQuery("SELECT parts FROM ecr_uploads WHERE created_at < :b").bind("b", before.toEpochMilli())
                .mapTo(String.class).list();
        execute(h.createUpdate("DELETE FROM ecr_uploads WHERE created_at < :b").bind("b", before.toEpochMilli()));
        return parts;
    }

    /** Every part list the registry refers to (for sweeping unreferenced sealed blobs at start). */
    public List<String> allParts() {
        List<String> out = new ArrayList<>(h.createQuery("SELECT parts FROM ecr_blobs").mapTo(String.class).list());
        out.addAll(h.createQuery("SELECT manifest_parts FROM ecr_images").mapTo(String.class).list());
        out.addAll(h.createQuery("SELECT parts FROM ecr_uploads").mapTo(String.class).list());
        return out;
    }

    private static Repo repo(ResultSet rs) throws SQLException {
        return new Repo(rs.getString("account_id"), rs.getString("name"), rs.getString("arn"), Instant.ofEpochMilli(rs.getLong("created_at")),
                rs.getString("tag_mutability"), rs.getInt("scan_on_push") == 1, rs.getString("encryption_type"), rs.getString("kms_key_arn"),
                Optional.ofNullable(rs.getString("policy")), rs.getString("tags"));
    }

    private static Image image(ResultSet rs) throws SQLException {
        long pulled = rs.getLong("last_pulled_at");
        boolean hasPulled = !rs.wasNull();
        long scanned = rs.getLong("scan_completed_at");
        boolean hasScanned = !rs.wasNull();
        return new Image(rs.getString("account_id"), rs.getString("repository"), rs.getString("digest"), rs.getString("media_type"),
                rs.getString("artifact_type"), rs.getString("manifest_parts"), rs.getLong("manifest_size"), rs.getLong("image_size"),
                Instant.ofEpochMilli(rs.getLong("pushed_at")), hasPulled ? Optional.of(Instant.ofEpochMilli(pulled)) : Optional.empty(),
                rs.getString("scan_status"), rs.getString("scan_description"), rs.getString("scan_findings"),
                hasScanned ? Optional.of(Instant.ofEpochMilli(scanned)) : Optional.empty());
    }
}

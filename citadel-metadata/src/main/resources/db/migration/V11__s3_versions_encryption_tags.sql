-- S3 versioning, default encryption, tags and checksums. Objects become versions: every version
-- of a key (and every delete marker) is a row; the newest is marked latest. A bucket that never
-- had versioning enabled keeps one version per key, whose id is 'null', as in S3. Existing objects
-- become their key's 'null' version. Placeholders as in V1.

CREATE TABLE s3_object_versions (
    bucket         TEXT ${binary} NOT NULL,
    object_key     TEXT ${binary} NOT NULL,
    version_id     TEXT ${binary} NOT NULL,
    seq            ${int64} NOT NULL,
    latest         ${int64} NOT NULL CHECK (latest IN (0, 1)),
    delete_marker  ${int64} NOT NULL CHECK (delete_marker IN (0, 1)),
    -- the sealed contents; null for a delete marker and for a multipart object, whose contents
    -- are its parts' blobs in order (s3_version_parts)
    blob_id        TEXT,
    size           ${int64} NOT NULL,
    etag           TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    -- the user metadata (x-amz-meta-*) and the tags, each a JSON object
    metadata       TEXT NOT NULL,
    tags           TEXT NOT NULL,
    -- the KMS key the contents are sealed under, the encryption S3 reports for it ('AES256' for
    -- the account's S3 key used as SSE-S3, 'aws:kms' for SSE-KMS) and whether bucket keys are on
    kms_key_arn    TEXT NOT NULL,
    sse_algorithm  TEXT NOT NULL,
    bucket_key     ${int64} NOT NULL CHECK (bucket_key IN (0, 1)),
    -- the additional checksum, as ALGORITHM ":" base64 (a multipart object's ends in "-" parts)
    checksum       TEXT,
    last_modified  ${int64} NOT NULL,
    CONSTRAINT s3_object_versions_pkey PRIMARY KEY (bucket, object_key, version_id),
    CONSTRAINT s3_object_versions_bucket_fkey FOREIGN KEY (bucket) REFERENCES s3_buckets (name)
) ${strict};

CREATE INDEX s3_object_versions_latest ON s3_object_versions (bucket, latest, object_key);

-- The contents of a multipart object: its upload's parts, each a sealed blob bound to the upload
-- and part number, in order (no second sealing of the whole object on completion).
CREATE TABLE s3_version_parts (
    bucket       TEXT ${binary} NOT NULL,
    object_key   TEXT ${binary} NOT NULL,
    version_id   TEXT ${binary} NOT NULL,
    part_index   ${int64} NOT NULL,
    upload_id    TEXT NOT NULL,
    part_number  ${int64} NOT NULL,
    blob_id      TEXT NOT NULL,
    size         ${int64} NOT NULL,
    CONSTRAINT s3_version_parts_pkey PRIMARY KEY (bucket, object_key, version_id, part_index),
    CONSTRAINT s3_version_parts_version_fkey FOREIGN KEY (bucket, object_key, version_id)
        REFERENCES s3_object_versions (bucket, object_key, version_id)
) ${strict};

INSERT INTO s3_object_versions (bucket, object_key, version_id, seq, latest, delete_marker, blob_id, size, etag, sha256,
        content_type, metadata, tags, kms_key_arn, sse_algorithm, bucket_key, checksum, last_modified)
    SELECT o.bucket, o.object_key, 'null', 1, 1, 0, o.blob_id, o.size, o.etag, o.sha256, o.content_type, o.metadata, '{}', o.kms_key_arn,
        CASE WHEN o.kms_key_arn IN (SELECT k.arn FROM kms_keys k JOIN kms_aliases a ON a.key_id = k.key_id WHERE a.alias_name = 'alias/aws/s3')
            THEN 'AES256' ELSE 'aws:kms' END, 0, NULL, o.last_modified FROM s3_objects o;

DROP TABLE s3_objects;

-- versioning: NULL (never enabled), 'Enabled' or 'Suspended'. encryption: the default encryption
-- rule as JSON (NULL is SSE-S3). tags: a JSON object, NULL when the bucket has no tag set.
ALTER TABLE s3_buckets ADD COLUMN versioning TEXT;
ALTER TABLE s3_buckets ADD COLUMN encryption TEXT;
ALTER TABLE s3_buckets ADD COLUMN tags TEXT;

-- An upload's parts are sealed under the key chosen when it was created; its checksum algorithm
-- and tags apply to the object it completes into.
ALTER TABLE s3_uploads ADD COLUMN kms_key_arn TEXT;
ALTER TABLE s3_uploads ADD COLUMN sse_algorithm TEXT;
ALTER TABLE s3_uploads ADD COLUMN bucket_key ${int64};
ALTER TABLE s3_uploads ADD COLUMN checksum_algorithm TEXT;
ALTER TABLE s3_uploads ADD COLUMN tags TEXT;
ALTER TABLE s3_upload_parts ADD COLUMN checksum TEXT;

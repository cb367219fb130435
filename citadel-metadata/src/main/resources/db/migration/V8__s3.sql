-- S3 buckets and the current version of each object. Bucket names are global, as in S3. An
-- object's contents are a sealed blob in the blob store (blob_id); its metadata lives here.
-- Placeholders as in V1.

CREATE TABLE s3_buckets (
    name        TEXT ${binary} NOT NULL,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    region      TEXT NOT NULL,
    created_at  ${int64} NOT NULL,
    CONSTRAINT s3_buckets_pkey PRIMARY KEY (name)
) ${strict};

CREATE INDEX s3_buckets_by_account ON s3_buckets (account_id, name);

-- metadata: the user metadata (x-amz-meta-*) as a JSON object.
CREATE TABLE s3_objects (
    bucket         TEXT ${binary} NOT NULL,
    object_key     TEXT ${binary} NOT NULL,
    blob_id        TEXT NOT NULL,
    size           ${int64} NOT NULL,
    etag           TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    metadata       TEXT NOT NULL,
    kms_key_arn    TEXT NOT NULL,
    last_modified  ${int64} NOT NULL,
    CONSTRAINT s3_objects_pkey PRIMARY KEY (bucket, object_key),
    CONSTRAINT s3_objects_bucket_fkey FOREIGN KEY (bucket) REFERENCES s3_buckets (name)
) ${strict};

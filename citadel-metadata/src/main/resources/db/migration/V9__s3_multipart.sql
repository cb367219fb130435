-- Multipart uploads in progress and their parts (each part a sealed blob until the upload is
-- completed or aborted). Placeholders as in V1.

CREATE TABLE s3_uploads (
    upload_id     TEXT ${binary} NOT NULL,
    bucket        TEXT NOT NULL,
    object_key    TEXT ${binary} NOT NULL,
    content_type  TEXT NOT NULL,
    metadata      TEXT NOT NULL,
    initiated_at  ${int64} NOT NULL,
    CONSTRAINT s3_uploads_pkey PRIMARY KEY (upload_id),
    CONSTRAINT s3_uploads_bucket_fkey FOREIGN KEY (bucket) REFERENCES s3_buckets (name)
) ${strict};

CREATE INDEX s3_uploads_by_bucket ON s3_uploads (bucket, object_key);

CREATE TABLE s3_upload_parts (
    upload_id    TEXT ${binary} NOT NULL,
    part_number  ${int64} NOT NULL,
    blob_id      TEXT NOT NULL,
    size         ${int64} NOT NULL,
    etag         TEXT NOT NULL,
    uploaded_at  ${int64} NOT NULL,
    CONSTRAINT s3_upload_parts_pkey PRIMARY KEY (upload_id, part_number),
    CONSTRAINT s3_upload_parts_upload_fkey FOREIGN KEY (upload_id) REFERENCES s3_uploads (upload_id)
) ${strict};

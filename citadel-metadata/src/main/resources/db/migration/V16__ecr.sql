-- The container registry (ECR): repositories of an account, the blobs (layers and configs) pushed
-- into each repository, images (manifests) and their tags, and uploads in progress. Every blob's
-- bytes are sealed blobs in the image blob store: `parts` is a JSON array of {"blob": id, "size": n}
-- in order (a chunked upload keeps its chunks as uploaded). Placeholders as in V1.

CREATE TABLE ecr_repositories (
    account_id        TEXT NOT NULL REFERENCES accounts (id),
    name              TEXT ${binary} NOT NULL,
    arn               TEXT NOT NULL,
    created_at        ${int64} NOT NULL,
    tag_mutability    TEXT NOT NULL CHECK (tag_mutability IN ('MUTABLE', 'IMMUTABLE')),
    scan_on_push      ${int64} NOT NULL CHECK (scan_on_push IN (0, 1)),
    encryption_type   TEXT NOT NULL CHECK (encryption_type IN ('AES256', 'KMS')),
    kms_key_arn       TEXT NOT NULL,
    policy            TEXT,
    tags              TEXT NOT NULL,
    CONSTRAINT ecr_repositories_pkey PRIMARY KEY (account_id, name)
) ${strict};

CREATE TABLE ecr_blobs (
    account_id    TEXT NOT NULL,
    repository    TEXT ${binary} NOT NULL,
    digest        TEXT ${binary} NOT NULL,
    size          ${int64} NOT NULL,
    parts         TEXT NOT NULL,
    pushed_at     ${int64} NOT NULL,
    CONSTRAINT ecr_blobs_pkey PRIMARY KEY (account_id, repository, digest),
    CONSTRAINT ecr_blobs_repository_fkey FOREIGN KEY (account_id, repository) REFERENCES ecr_repositories (account_id, name)
) ${strict};

-- manifest_size / image_size: the manifest's bytes, and what ECR reports as the image size (the
-- manifest's layers and config). scan_status: '' (never), IN_PROGRESS, COMPLETE or FAILED.
CREATE TABLE ecr_images (
    account_id         TEXT NOT NULL,
    repository         TEXT ${binary} NOT NULL,
    digest             TEXT ${binary} NOT NULL,
    media_type         TEXT NOT NULL,
    artifact_type      TEXT NOT NULL,
    manifest_parts     TEXT NOT NULL,
    manifest_size      ${int64} NOT NULL,
    image_size         ${int64} NOT NULL,
    pushed_at          ${int64} NOT NULL,
    last_pulled_at     ${int64},
    scan_status        TEXT NOT NULL,
    scan_description   TEXT NOT NULL,
    scan_findings      TEXT NOT NULL,
    scan_completed_at  ${int64},
    CONSTRAINT ecr_images_pkey PRIMARY KEY (account_id, repository, digest),
    CONSTRAINT ecr_images_repository_fkey FOREIGN KEY (account_id, repository) REFERENCES ecr_repositories (account_id, name)
) ${strict};

CREATE TABLE ecr_tags (
    account_id    TEXT NOT NULL,
    repository    TEXT ${binary} NOT NULL,
    tag           TEXT ${binary} NOT NULL,
    digest        TEXT NOT NULL,
    CONSTRAINT ecr_tags_pkey PRIMARY KEY (account_id, repository, tag),
    CONSTRAINT ecr_tags_image_fkey FOREIGN KEY (account_id, repository, digest) REFERENCES ecr_images (account_id, repository, digest)
) ${strict};

CREATE TABLE ecr_uploads (
    upload_id     TEXT ${binary} NOT NULL,
    account_id    TEXT NOT NULL,
    repository    TEXT ${binary} NOT NULL,
    parts         TEXT NOT NULL,
    size          ${int64} NOT NULL,
    created_at    ${int64} NOT NULL,
    CONSTRAINT ecr_uploads_pkey PRIMARY KEY (upload_id),
    CONSTRAINT ecr_uploads_repository_fkey FOREIGN KEY (account_id, repository) REFERENCES ecr_repositories (account_id, name)
) ${strict};

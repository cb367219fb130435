-- KMS keys, their versions (rotation adds one; every version still decrypts), aliases, grants
-- and tags. Key material is stored only sealed under the root key. Placeholders as in V1.

CREATE TABLE kms_keys (
    key_id                TEXT ${binary} NOT NULL,
    account_id            TEXT NOT NULL REFERENCES accounts (id),
    arn                   TEXT NOT NULL,
    description           TEXT NOT NULL,
    key_usage             TEXT NOT NULL CHECK (key_usage IN ('ENCRYPT_DECRYPT', 'GENERATE_VERIFY_MAC', 'SIGN_VERIFY')),
    key_spec              TEXT NOT NULL,
    key_state             TEXT NOT NULL CHECK (key_state IN ('Enabled', 'Disabled', 'PendingDeletion')),
    policy                TEXT NOT NULL,
    rotation_enabled      ${int64} NOT NULL,
    rotation_period_days  ${int64} NOT NULL,
    current_version       ${int64} NOT NULL,
    deletion_date         ${int64},
    created_at            ${int64} NOT NULL,
    CONSTRAINT kms_keys_pkey PRIMARY KEY (key_id)
) ${strict};

CREATE INDEX kms_keys_by_account ON kms_keys (account_id, key_id);

CREATE TABLE kms_key_versions (
    key_id           TEXT ${binary} NOT NULL,
    version          ${int64} NOT NULL,
    material_sealed  ${blob} NOT NULL,
    created_at       ${int64} NOT NULL,
    CONSTRAINT kms_key_versions_pkey PRIMARY KEY (key_id, version),
    CONSTRAINT kms_key_versions_key_fkey FOREIGN KEY (key_id) REFERENCES kms_keys (key_id)
) ${strict};

CREATE TABLE kms_aliases (
    account_id  TEXT NOT NULL,
    alias_name  TEXT ${binary} NOT NULL,
    key_id      TEXT NOT NULL,
    created_at  ${int64} NOT NULL,
    CONSTRAINT kms_aliases_pkey PRIMARY KEY (account_id, alias_name),
    CONSTRAINT kms_aliases_key_fkey FOREIGN KEY (key_id) REFERENCES kms_keys (key_id)
) ${strict};

-- operations: comma-separated KMS operation names; constraints: the grant's constraint JSON.
CREATE TABLE kms_grants (
    grant_id            TEXT ${binary} NOT NULL,
    key_id              TEXT NOT NULL,
    name                TEXT NOT NULL,
    grantee_principal   TEXT NOT NULL,
    retiring_principal  TEXT NOT NULL,
    operations          TEXT NOT NULL,
    constraints         TEXT NOT NULL,
    issuing_account     TEXT NOT NULL,
    created_at          ${int64} NOT NULL,
    CONSTRAINT kms_grants_pkey PRIMARY KEY (grant_id),
    CONSTRAINT kms_grants_key_fkey FOREIGN KEY (key_id) REFERENCES kms_keys (key_id)
) ${strict};

CREATE INDEX kms_grants_by_key ON kms_grants (key_id, grantee_principal);

CREATE TABLE kms_tags (
    key_id     TEXT ${binary} NOT NULL,
    tag_key    TEXT ${binary} NOT NULL,
    tag_value  TEXT NOT NULL,
    CONSTRAINT kms_tags_pkey PRIMARY KEY (key_id, tag_key),
    CONSTRAINT kms_tags_key_fkey FOREIGN KEY (key_id) REFERENCES kms_keys (key_id)
) ${strict};

-- Customer managed policies with their versions, permissions boundaries, tags and virtual MFA
-- devices. Placeholders as in V1.

-- The ARN of the managed policy that bounds a user's or role's permissions, if any.
ALTER TABLE iam_users ADD COLUMN permissions_boundary TEXT;
ALTER TABLE iam_roles ADD COLUMN permissions_boundary TEXT;

-- Customer managed policies. Names are unique per account without regard to case (name_key);
-- the ARN is arn:aws:iam::<account>:policy<path><name>. default_version names the version in
-- force; next_version numbers the next one (v1, v2, ...: IAM never reuses a number).
CREATE TABLE iam_policies (
    account_id       TEXT NOT NULL REFERENCES accounts (id),
    name_key         TEXT ${binary} NOT NULL,
    policy_name      TEXT NOT NULL,
    policy_id        TEXT NOT NULL,
    path             TEXT NOT NULL,
    arn              TEXT ${binary} NOT NULL,
    description      TEXT NOT NULL,
    default_version  TEXT NOT NULL,
    next_version     ${int64} NOT NULL,
    created_at       ${int64} NOT NULL,
    updated_at       ${int64} NOT NULL,
    CONSTRAINT iam_policies_pkey PRIMARY KEY (account_id, name_key),
    CONSTRAINT iam_policies_arn_key UNIQUE (arn),
    CONSTRAINT iam_policies_policy_id_key UNIQUE (policy_id)
) ${strict};

CREATE TABLE iam_policy_versions (
    policy_arn  TEXT ${binary} NOT NULL,
    version_id  TEXT ${binary} NOT NULL,
    document    TEXT NOT NULL,
    created_at  ${int64} NOT NULL,
    CONSTRAINT iam_policy_versions_pkey PRIMARY KEY (policy_arn, version_id),
    CONSTRAINT iam_policy_versions_policy_fkey FOREIGN KEY (policy_arn) REFERENCES iam_policies (arn)
) ${strict};

-- Tags of users, roles and customer managed policies. resource_key is the user or role name in
-- lower case, or the policy ARN. Tag keys are unique per resource without regard to case, as in IAM.
CREATE TABLE iam_tags (
    account_id     TEXT NOT NULL,
    resource_type  TEXT NOT NULL CHECK (resource_type IN ('user', 'role', 'policy')),
    resource_key   TEXT ${binary} NOT NULL,
    key_lower      TEXT ${binary} NOT NULL,
    tag_key        TEXT NOT NULL,
    tag_value      TEXT NOT NULL,
    CONSTRAINT iam_tags_pkey PRIMARY KEY (account_id, resource_type, resource_key, key_lower)
) ${strict};

-- Virtual MFA devices. The serial number is the device's ARN
-- (arn:aws:iam::<account>:mfa<path><name>); name_key is path and name in lower case. The TOTP seed
-- is stored sealed. user_name_key is set once EnableMFADevice has assigned the device; last_step is
-- the last RFC 6238 time step accepted, so a code is never accepted twice.
CREATE TABLE iam_mfa_devices (
    serial_number  TEXT ${binary} NOT NULL,
    account_id     TEXT NOT NULL REFERENCES accounts (id),
    name_key       TEXT ${binary} NOT NULL,
    seed_sealed    ${blob} NOT NULL,
    user_name_key  TEXT ${binary},
    enabled_at     ${int64},
    last_step      ${int64} NOT NULL,
    created_at     ${int64} NOT NULL,
    CONSTRAINT iam_mfa_devices_pkey PRIMARY KEY (serial_number),
    CONSTRAINT iam_mfa_devices_account_id_name_key_key UNIQUE (account_id, name_key),
    CONSTRAINT iam_mfa_devices_user_fkey FOREIGN KEY (account_id, user_name_key) REFERENCES iam_users (account_id, name_key) ON UPDATE CASCADE
) ${strict};

CREATE INDEX iam_mfa_devices_by_user ON iam_mfa_devices (account_id, user_name_key);

-- Accounts in the AWS Organizations shape, and the IAM identities the first services need.
-- One file for SQLite and PostgreSQL; the differences are Flyway placeholders (see
-- dev.citadel.metadata.Dialect and package-info):
--   ${int64}  INTEGER / BIGINT        ${blob}   BLOB / BYTEA
--   ${strict} STRICT / (nothing)      ${binary} (nothing) / COLLATE "C": byte order for keys that
--                                               listings are ordered and paginated by
-- Timestamps are epoch milliseconds. Constraint names follow PostgreSQL's convention
-- (<table>_pkey, <table>_<columns>_key); DuplicateKeyException reports them on both dialects.
-- IAM names are unique without regard to case: name_key is the name in lower case.

CREATE TABLE organizations (
    id                        TEXT NOT NULL,
    arn                       TEXT NOT NULL,
    feature_set               TEXT NOT NULL CHECK (feature_set IN ('ALL', 'CONSOLIDATED_BILLING')),
    management_account_id     TEXT NOT NULL,
    management_account_email  TEXT NOT NULL,
    created_at                ${int64} NOT NULL,
    singleton                 ${int64} NOT NULL DEFAULT 1 CHECK (singleton = 1),
    CONSTRAINT organizations_pkey PRIMARY KEY (id),
    CONSTRAINT organizations_singleton_key UNIQUE (singleton)
) ${strict};

CREATE TABLE accounts (
    id             TEXT ${binary} NOT NULL,
    arn            TEXT NOT NULL,
    name           TEXT NOT NULL,
    email          TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('ACTIVE', 'SUSPENDED', 'PENDING_CLOSURE')),
    joined_method  TEXT NOT NULL CHECK (joined_method IN ('INVITED', 'CREATED')),
    joined_at      ${int64} NOT NULL,
    CONSTRAINT accounts_pkey PRIMARY KEY (id),
    CONSTRAINT accounts_email_key UNIQUE (email)
) ${strict};

-- History: account_id is not a foreign key, so a request still names the account it created after
-- that account has left the organization, as DescribeCreateAccountStatus does.
CREATE TABLE create_account_requests (
    id              TEXT ${binary} NOT NULL,
    account_name    TEXT NOT NULL,
    email           TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('IN_PROGRESS', 'SUCCEEDED', 'FAILED')),
    account_id      TEXT,
    failure_reason  TEXT,
    requested_at    ${int64} NOT NULL,
    completed_at    ${int64},
    CONSTRAINT create_account_requests_pkey PRIMARY KEY (id)
) ${strict};

CREATE TABLE iam_users (
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    name_key    TEXT ${binary} NOT NULL,
    user_name   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    path        TEXT NOT NULL,
    arn         TEXT NOT NULL,
    created_at  ${int64} NOT NULL,
    CONSTRAINT iam_users_pkey PRIMARY KEY (account_id, name_key),
    CONSTRAINT iam_users_user_id_key UNIQUE (user_id)
) ${strict};

CREATE TABLE iam_roles (
    account_id                   TEXT NOT NULL REFERENCES accounts (id),
    name_key                     TEXT ${binary} NOT NULL,
    role_name                    TEXT NOT NULL,
    role_id                      TEXT NOT NULL,
    path                         TEXT NOT NULL,
    arn                          TEXT NOT NULL,
    assume_role_policy_document  TEXT NOT NULL,
    description                  TEXT NOT NULL,
    max_session_duration         ${int64} NOT NULL,
    created_at                   ${int64} NOT NULL,
    CONSTRAINT iam_roles_pkey PRIMARY KEY (account_id, name_key),
    CONSTRAINT iam_roles_role_id_key UNIQUE (role_id)
) ${strict};

-- A user's rename carries its keys along (ON UPDATE CASCADE); a user with keys cannot be deleted.
CREATE TABLE iam_access_keys (
    access_key_id  TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    user_name_key  TEXT ${binary} NOT NULL,
    secret_sealed  ${blob} NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('Active', 'Inactive')),
    created_at     ${int64} NOT NULL,
    last_used_at   ${int64},
    CONSTRAINT iam_access_keys_pkey PRIMARY KEY (access_key_id),
    FOREIGN KEY (account_id, user_name_key) REFERENCES iam_users (account_id, name_key) ON UPDATE CASCADE
) ${strict};

CREATE INDEX iam_access_keys_by_user ON iam_access_keys (account_id, user_name_key);

-- Managed policies attached to a user, role or group; principal_name_key is its name in lower case.
CREATE TABLE iam_attached_policies (
    account_id          TEXT NOT NULL REFERENCES accounts (id),
    principal_type      TEXT NOT NULL CHECK (principal_type IN ('user', 'role', 'group')),
    principal_name_key  TEXT NOT NULL,
    policy_arn          TEXT ${binary} NOT NULL,
    CONSTRAINT iam_attached_policies_pkey PRIMARY KEY (account_id, principal_type, principal_name_key, policy_arn)
) ${strict};

-- Accounts in the AWS Organizations shape, and the IAM identities the foundation needs.
-- Portable between SQLite and PostgreSQL: ${blob}, ${int64} and ${strict} are Flyway placeholders
-- (see dev.citadel.metadata.Dialect). Timestamps are epoch milliseconds.

CREATE TABLE organizations (
    id                        TEXT NOT NULL PRIMARY KEY,
    arn                       TEXT NOT NULL,
    feature_set               TEXT NOT NULL,
    management_account_id     TEXT NOT NULL,
    management_account_email  TEXT NOT NULL,
    created_at                ${int64} NOT NULL
) ${strict};

CREATE TABLE accounts (
    id             TEXT NOT NULL PRIMARY KEY,
    arn            TEXT NOT NULL,
    name           TEXT NOT NULL,
    email          TEXT NOT NULL UNIQUE,
    status         TEXT NOT NULL,
    joined_method  TEXT NOT NULL,
    joined_at      ${int64} NOT NULL
) ${strict};

CREATE TABLE create_account_requests (
    id              TEXT NOT NULL PRIMARY KEY,
    account_name    TEXT NOT NULL,
    email           TEXT NOT NULL,
    state           TEXT NOT NULL,
    account_id      TEXT REFERENCES accounts (id),
    failure_reason  TEXT,
    requested_at    ${int64} NOT NULL,
    completed_at    ${int64}
) ${strict};

CREATE TABLE iam_users (
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    name_key    TEXT NOT NULL,
    user_name   TEXT NOT NULL,
    user_id     TEXT NOT NULL UNIQUE,
    path        TEXT NOT NULL,
    arn         TEXT NOT NULL,
    created_at  ${int64} NOT NULL,
    PRIMARY KEY (account_id, name_key)
) ${strict};

CREATE TABLE iam_roles (
    account_id                   TEXT NOT NULL REFERENCES accounts (id),
    name_key                     TEXT NOT NULL,
    role_name                    TEXT NOT NULL,
    role_id                      TEXT NOT NULL UNIQUE,
    path                         TEXT NOT NULL,
    arn                          TEXT NOT NULL,
    assume_role_policy_document  TEXT NOT NULL,
    description                  TEXT NOT NULL,
    max_session_duration         ${int64} NOT NULL,
    created_at                   ${int64} NOT NULL,
    PRIMARY KEY (account_id, name_key)
) ${strict};

CREATE TABLE iam_access_keys (
    access_key_id   TEXT NOT NULL PRIMARY KEY,
    account_id      TEXT NOT NULL,
    user_name_key   TEXT NOT NULL,
    secret_sealed   ${blob} NOT NULL,
    status          TEXT NOT NULL,
    created_at      ${int64} NOT NULL,
    last_used_at    ${int64},
    FOREIGN KEY (account_id, user_name_key) REFERENCES iam_users (account_id, name_key)
) ${strict};

CREATE INDEX iam_access_keys_by_user ON iam_access_keys (account_id, user_name_key);

CREATE TABLE iam_attached_policies (
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    principal_type  TEXT NOT NULL,
    principal_key   TEXT NOT NULL,
    policy_arn      TEXT NOT NULL,
    PRIMARY KEY (account_id, principal_type, principal_key, policy_arn)
) ${strict};

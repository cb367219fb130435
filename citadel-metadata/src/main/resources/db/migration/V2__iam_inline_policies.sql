-- Inline policies: a policy document embedded in one user, role or group, named within it.
CREATE TABLE iam_inline_policies (
    account_id          TEXT NOT NULL REFERENCES accounts (id),
    principal_type      TEXT NOT NULL CHECK (principal_type IN ('user', 'role', 'group')),
    principal_name_key  TEXT NOT NULL,
    policy_name         TEXT ${binary} NOT NULL,
    document            TEXT NOT NULL,
    CONSTRAINT iam_inline_policies_pkey PRIMARY KEY (account_id, principal_type, principal_name_key, policy_name)
) ${strict};

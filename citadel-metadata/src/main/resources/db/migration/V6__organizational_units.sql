-- Organizational units, and the parent of each account that is not directly under the root (an
-- account without a row here is under the root). Placeholders as in V1.

CREATE TABLE org_units (
    id         TEXT ${binary} NOT NULL,
    arn        TEXT NOT NULL,
    name       TEXT NOT NULL,
    parent_id  TEXT ${binary} NOT NULL,
    CONSTRAINT org_units_pkey PRIMARY KEY (id),
    CONSTRAINT org_units_parent_id_name_key UNIQUE (parent_id, name)
) ${strict};

CREATE TABLE org_account_parents (
    account_id  TEXT ${binary} NOT NULL REFERENCES accounts (id),
    parent_id   TEXT ${binary} NOT NULL,
    CONSTRAINT org_account_parents_pkey PRIMARY KEY (account_id)
) ${strict};

CREATE INDEX org_account_parents_by_parent ON org_account_parents (parent_id);

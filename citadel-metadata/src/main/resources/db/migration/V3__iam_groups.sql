-- IAM groups and their members. Group names, like user names, are unique per account without
-- regard to case (name_key is the name in lower case).
CREATE TABLE iam_groups (
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    name_key    TEXT ${binary} NOT NULL,
    group_name  TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    path        TEXT NOT NULL,
    arn         TEXT NOT NULL,
    created_at  ${int64} NOT NULL,
    CONSTRAINT iam_groups_pkey PRIMARY KEY (account_id, name_key),
    CONSTRAINT iam_groups_group_id_key UNIQUE (group_id)
) ${strict};

CREATE TABLE iam_group_members (
    account_id      TEXT NOT NULL,
    group_name_key  TEXT ${binary} NOT NULL,
    user_name_key   TEXT ${binary} NOT NULL,
    CONSTRAINT iam_group_members_pkey PRIMARY KEY (account_id, group_name_key, user_name_key),
    CONSTRAINT iam_group_members_group_fkey FOREIGN KEY (account_id, group_name_key) REFERENCES iam_groups (account_id, name_key),
    CONSTRAINT iam_group_members_user_fkey FOREIGN KEY (account_id, user_name_key) REFERENCES iam_users (account_id, name_key)
) ${strict};

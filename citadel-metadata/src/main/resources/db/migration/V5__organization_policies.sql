-- Organizations policies (service control policies). The root's id is derived from the
-- organization's id; targets are the root or account ids. Placeholders as in V1.

CREATE TABLE org_policies (
    id           TEXT ${binary} NOT NULL,
    arn          TEXT NOT NULL,
    policy_type  TEXT NOT NULL CHECK (policy_type IN ('SERVICE_CONTROL_POLICY')),
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    aws_managed  ${int64} NOT NULL,
    content      TEXT NOT NULL,
    CONSTRAINT org_policies_pkey PRIMARY KEY (id),
    CONSTRAINT org_policies_policy_type_name_key UNIQUE (policy_type, name)
) ${strict};

CREATE TABLE org_policy_attachments (
    policy_id  TEXT ${binary} NOT NULL,
    target_id  TEXT ${binary} NOT NULL,
    CONSTRAINT org_policy_attachments_pkey PRIMARY KEY (policy_id, target_id),
    CONSTRAINT org_policy_attachments_policy_fkey FOREIGN KEY (policy_id) REFERENCES org_policies (id)
) ${strict};

CREATE INDEX org_policy_attachments_by_target ON org_policy_attachments (target_id);

-- The policy types enabled on the root.
CREATE TABLE org_policy_types (
    root_id      TEXT NOT NULL,
    policy_type  TEXT NOT NULL,
    CONSTRAINT org_policy_types_pkey PRIMARY KEY (root_id, policy_type)
) ${strict};

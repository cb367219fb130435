-- SageMaker's algorithms, model packages and model package groups join models, endpoint
-- configurations and endpoints as resources (the marketplace's products are algorithms and model
-- packages). A CHECK constraint cannot be changed in place on SQLite, so the table is made anew
-- under a new name with the wider set of kinds, the rows copied, and the old one dropped. For an
-- algorithm or a model package, status is its AlgorithmStatus / ModelPackageStatus and
-- body_sealed holds the Create* request as sent with the state its validation reached.
-- Placeholders as in V1.

CREATE TABLE sagemaker_entities (
    account_id      TEXT ${binary} NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('MODEL', 'ENDPOINT_CONFIG', 'ENDPOINT', 'ALGORITHM', 'MODEL_PACKAGE',
                                                  'MODEL_PACKAGE_GROUP')),
    name            TEXT ${binary} NOT NULL,
    arn             TEXT NOT NULL,
    status          TEXT NOT NULL,
    failure_reason  TEXT,
    body_sealed     ${blob} NOT NULL,
    tags            TEXT NOT NULL,
    created_at      ${int64} NOT NULL,
    modified_at     ${int64} NOT NULL,
    CONSTRAINT sagemaker_entities_pkey PRIMARY KEY (account_id, kind, name)
) ${strict};

INSERT INTO sagemaker_entities (account_id, kind, name, arn, status, failure_reason, body_sealed, tags, created_at, modified_at)
    SELECT account_id, kind, name, arn, status, failure_reason, body_sealed, tags, created_at, modified_at FROM sagemaker_resources;

DROP TABLE sagemaker_resources;

CREATE INDEX sagemaker_entities_by_kind ON sagemaker_entities (kind, status);

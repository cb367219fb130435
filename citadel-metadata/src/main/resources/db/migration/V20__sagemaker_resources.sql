-- SageMaker's models, endpoint configurations and endpoints, one row each. body_sealed is sealed
-- under the secrets key: for a model and an endpoint configuration the Create* request as sent (a
-- model's container Environment may hold secrets), for an endpoint its state (its configuration,
-- the one it is moving to, its variants' weights and instance counts). status is SageMaker's
-- (an endpoint's EndpointStatus; models and configurations are always 'Active'); tags the JSON
-- object of the resource's tags. Placeholders as in V1.

CREATE TABLE sagemaker_resources (
    account_id      TEXT ${binary} NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('MODEL', 'ENDPOINT_CONFIG', 'ENDPOINT')),
    name            TEXT ${binary} NOT NULL,
    arn             TEXT NOT NULL,
    status          TEXT NOT NULL,
    failure_reason  TEXT,
    body_sealed     ${blob} NOT NULL,
    tags            TEXT NOT NULL,
    created_at      ${int64} NOT NULL,
    modified_at     ${int64} NOT NULL,
    CONSTRAINT sagemaker_resources_pkey PRIMARY KEY (account_id, kind, name)
) ${strict};

CREATE INDEX sagemaker_resources_by_kind ON sagemaker_resources (kind, status);

-- SageMaker training, processing and (batch) transform jobs, one row each, kept after they end (a job name is never
-- reused in an account). The request as the client sent it is sealed under the secrets key: its
-- Environment may hold secrets, and Describe* answers from it. status and secondary_status are
-- SageMaker's; transitions is the JSON array DescribeTrainingJob returns as
-- SecondaryStatusTransitions; outputs the JSON of what was delivered (ModelArtifacts, processing
-- outputs); tags the JSON object of the job's tags. run_id names the sandbox run while the job has
-- one, so that a restart can find and reap it. The scheduler takes queued jobs (InProgress with
-- secondary status Starting and no run) in order of creation. Placeholders as in V1.

CREATE TABLE sagemaker_jobs (
    account_id        TEXT ${binary} NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('TRAINING', 'PROCESSING', 'TRANSFORM')),
    name              TEXT ${binary} NOT NULL,
    arn               TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped')),
    secondary_status  TEXT NOT NULL,
    failure_reason    TEXT,
    request_sealed    ${blob} NOT NULL,
    image_digest      TEXT NOT NULL,
    role_arn          TEXT NOT NULL,
    created_at        ${int64} NOT NULL,
    started_at        ${int64},
    ended_at          ${int64},
    modified_at       ${int64} NOT NULL,
    transitions       TEXT NOT NULL,
    outputs           TEXT NOT NULL,
    tags              TEXT NOT NULL,
    stop_requested_at ${int64},
    run_id            TEXT,
    CONSTRAINT sagemaker_jobs_pkey PRIMARY KEY (account_id, kind, name)
) ${strict};

CREATE INDEX sagemaker_jobs_by_status ON sagemaker_jobs (status, created_at);
CREATE INDEX sagemaker_jobs_by_creation ON sagemaker_jobs (account_id, kind, created_at);

-- CloudTrail trails: where an account's audit events are delivered (a bucket and prefix), whether
-- the trail is logging, and which events it selects (event selectors as JSON). Placeholders as in V1.

CREATE TABLE cloudtrail_trails (
    account_id              TEXT NOT NULL REFERENCES accounts (id),
    name                    TEXT ${binary} NOT NULL,
    arn                     TEXT NOT NULL,
    home_region             TEXT NOT NULL,
    s3_bucket               TEXT NOT NULL,
    s3_key_prefix           TEXT NOT NULL,
    include_global_events   ${int64} NOT NULL CHECK (include_global_events IN (0, 1)),
    multi_region            ${int64} NOT NULL CHECK (multi_region IN (0, 1)),
    log_file_validation     ${int64} NOT NULL CHECK (log_file_validation IN (0, 1)),
    kms_key_id              TEXT NOT NULL,
    event_selectors         TEXT NOT NULL,
    logging                 ${int64} NOT NULL CHECK (logging IN (0, 1)),
    start_logging_time      ${int64},
    stop_logging_time       ${int64},
    created_at              ${int64} NOT NULL,
    CONSTRAINT cloudtrail_trails_pkey PRIMARY KEY (account_id, name)
) ${strict};

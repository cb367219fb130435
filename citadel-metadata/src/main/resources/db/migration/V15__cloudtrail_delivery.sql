-- CloudTrail delivery: per trail, how far into the audit log it has delivered and the state of its
-- last delivery and digest (GetTrailStatus); the log files delivered and not yet covered by a
-- digest; and, per trail and source region, the head of the digest chain (the last digest's key,
-- hash and signature, which the next digest names). Placeholders as in V1.

CREATE TABLE cloudtrail_delivery (
    trail_arn              TEXT ${binary} NOT NULL,
    log_offset             ${int64} NOT NULL,
    latest_delivery        ${int64},
    latest_attempt         ${int64},
    latest_error           TEXT NOT NULL,
    latest_digest          ${int64},
    latest_digest_error    TEXT NOT NULL,
    CONSTRAINT cloudtrail_delivery_pkey PRIMARY KEY (trail_arn)
) ${strict};

CREATE TABLE cloudtrail_log_files (
    trail_arn       TEXT ${binary} NOT NULL,
    region          TEXT NOT NULL,
    bucket          TEXT NOT NULL,
    object_key      TEXT ${binary} NOT NULL,
    hash            TEXT NOT NULL,
    oldest_event    ${int64} NOT NULL,
    newest_event    ${int64} NOT NULL,
    delivered_at    ${int64} NOT NULL,
    CONSTRAINT cloudtrail_log_files_pkey PRIMARY KEY (trail_arn, bucket, object_key)
) ${strict};

CREATE INDEX cloudtrail_log_files_by_delivery ON cloudtrail_log_files (trail_arn, region, delivered_at);

CREATE TABLE cloudtrail_digest_chain (
    trail_arn       TEXT ${binary} NOT NULL,
    region          TEXT NOT NULL,
    bucket          TEXT NOT NULL,
    object_key      TEXT NOT NULL,
    end_time        ${int64} NOT NULL,
    hash            TEXT NOT NULL,
    signature       TEXT NOT NULL,
    CONSTRAINT cloudtrail_digest_chain_pkey PRIMARY KEY (trail_arn, region)
) ${strict};

-- Job output as CloudWatch Logs keeps it (the Logs subset: DescribeLogGroups, DescribeLogStreams,
-- GetLogEvents, FilterLogEvents): log streams of an account and region, grouped by log group (a
-- group exists once a stream was made in it), and their events in chunks. A chunk is one batch of
-- events in stream order, sealed as one value under the secrets key and bound to its account,
-- region, group, stream and sequence (see dev.citadel.services.logs.JobLogs for the payload's
-- layout). Timestamps are epoch ms; a stream's events never go back in time, so the chunks'
-- first/last timestamps are non-decreasing in sequence order. stored_bytes counts what the cap
-- counts (message bytes plus 26 per event, as CloudWatch does); truncated is set once the cap was
-- reached and later events were dropped. next_sequence is the sequence of the next chunk.
-- Placeholders as in V1.

CREATE TABLE logs_streams (
    account_id        TEXT NOT NULL REFERENCES accounts (id),
    region            TEXT NOT NULL,
    log_group         TEXT ${binary} NOT NULL,
    stream            TEXT ${binary} NOT NULL,
    created_at        ${int64} NOT NULL,
    first_event_at    ${int64},
    last_event_at     ${int64},
    last_ingested_at  ${int64},
    stored_bytes      ${int64} NOT NULL,
    truncated         ${int64} NOT NULL CHECK (truncated IN (0, 1)),
    next_sequence     ${int64} NOT NULL,
    CONSTRAINT logs_streams_pkey PRIMARY KEY (account_id, region, log_group, stream)
) ${strict};

CREATE TABLE logs_chunks (
    account_id      TEXT NOT NULL,
    region          TEXT NOT NULL,
    log_group       TEXT ${binary} NOT NULL,
    stream          TEXT ${binary} NOT NULL,
    sequence        ${int64} NOT NULL,
    first_event_at  ${int64} NOT NULL,
    last_event_at   ${int64} NOT NULL,
    event_count     ${int64} NOT NULL CHECK (event_count > 0),
    ingested_at     ${int64} NOT NULL,
    payload         ${blob} NOT NULL,
    CONSTRAINT logs_chunks_pkey PRIMARY KEY (account_id, region, log_group, stream, sequence),
    CONSTRAINT logs_chunks_stream_fkey FOREIGN KEY (account_id, region, log_group, stream)
        REFERENCES logs_streams (account_id, region, log_group, stream)
) ${strict};

-- The event history LookupEvents reads: management events of the audit log, indexed by account and
-- time (the audit log stays the record; this index is rebuilt from it and may lag it by seconds).
-- Placeholders as in V1.

CREATE TABLE audit_events (
    event_id        TEXT ${binary} NOT NULL,
    account_id      TEXT NOT NULL,
    event_time      ${int64} NOT NULL,
    event_name      TEXT NOT NULL,
    event_source    TEXT NOT NULL,
    username        TEXT NOT NULL,
    access_key_id   TEXT NOT NULL,
    read_only       ${int64} NOT NULL CHECK (read_only IN (0, 1)),
    -- the resources as "type name" lines (ARN names)
    resources       TEXT NOT NULL,
    record          TEXT NOT NULL,
    CONSTRAINT audit_events_pkey PRIMARY KEY (event_id)
) ${strict};

CREATE INDEX audit_events_by_account_time ON audit_events (account_id, event_time, event_id);

-- How far into the audit log the index has read (one row).
CREATE TABLE audit_index_state (
    id           ${int64} NOT NULL,
    log_offset   ${int64} NOT NULL,
    CONSTRAINT audit_index_state_pkey PRIMARY KEY (id)
) ${strict};

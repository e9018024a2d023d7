-- The same tables as the SQLite schema (see migrations/sqlite), in PostgreSQL's types.
-- A check is also its job: `status`, `run`, `attempts` and the lease are the queue.

CREATE TABLE checks (
    id          TEXT PRIMARY KEY,              -- 6 lower-case hex digits, the end of the URL
    seq         BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE, -- insertion order (SQLite's rowid)
    input       TEXT NOT NULL,
    input_key   TEXT NOT NULL,                 -- normalised input, to find repeated questions
    topic       TEXT NOT NULL,
    slug        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    created_at  TEXT NOT NULL,                 -- RFC 3339, UTC
    updated_at  TEXT NOT NULL,
    run         BIGINT NOT NULL DEFAULT 1,     -- the report version the current job writes
    attempts    BIGINT NOT NULL DEFAULT 0,     -- attempts of the current run
    lease_owner TEXT,                          -- the worker running it
    lease_until BIGINT,                        -- unix milliseconds; an expired lease is free
    error       TEXT
);
CREATE INDEX checks_by_key ON checks (input_key, created_at);
CREATE INDEX checks_by_status ON checks (status, updated_at, seq);
CREATE INDEX checks_by_topic ON checks (topic, created_at);
CREATE INDEX checks_by_created ON checks (created_at);

CREATE TABLE reports (
    check_id   TEXT NOT NULL REFERENCES checks (id),
    version    BIGINT NOT NULL,
    json       TEXT NOT NULL,                  -- the report exactly as `check --format json`
    label      TEXT NOT NULL,
    rating     BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (check_id, version)
);

CREATE TABLE sources (
    check_id TEXT NOT NULL,
    version  BIGINT NOT NULL,
    n        BIGINT NOT NULL,
    doc_id   TEXT NOT NULL,
    kb       TEXT NOT NULL,
    title    TEXT NOT NULL,
    url      TEXT,
    PRIMARY KEY (check_id, version, n),
    FOREIGN KEY (check_id, version) REFERENCES reports (check_id, version)
);
CREATE INDEX sources_by_doc ON sources (doc_id);

CREATE TABLE events (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- the SSE event id
    check_id TEXT NOT NULL REFERENCES checks (id),
    run      BIGINT NOT NULL,
    kind     TEXT NOT NULL,
    data     TEXT NOT NULL,                      -- JSON
    at       TEXT NOT NULL
);
CREATE INDEX events_by_check ON events (check_id, id);

CREATE TABLE donations (
    event_id     TEXT PRIMARY KEY,               -- the payment provider's event id
    amount_cents BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    at           TEXT NOT NULL
);

CREATE TABLE error_reports (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    check_id TEXT NOT NULL REFERENCES checks (id),
    message  TEXT NOT NULL,
    at       TEXT NOT NULL
);

-- Full-text search over past checks: the question and the latest report's summary.
CREATE TABLE checks_fts (
    check_id TEXT PRIMARY KEY REFERENCES checks (id),
    document TSVECTOR NOT NULL
);
CREATE INDEX checks_fts_document ON checks_fts USING GIN (document);

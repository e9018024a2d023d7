-- Checks, their report versions, progress events, the job queue, donations, error reports.
-- A check is also its job: `status`, `run`, `attempts` and the lease are the queue.

CREATE TABLE checks (
    id          TEXT PRIMARY KEY,              -- 6 lower-case hex digits, the end of the URL
    input       TEXT NOT NULL,
    input_key   TEXT NOT NULL,                 -- normalised input, to find repeated questions
    topic       TEXT NOT NULL,
    slug        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    created_at  TEXT NOT NULL,                 -- RFC 3339, UTC
    updated_at  TEXT NOT NULL,
    run         INTEGER NOT NULL DEFAULT 1,    -- the report version the current job writes
    attempts    INTEGER NOT NULL DEFAULT 0,    -- attempts of the current run
    lease_owner TEXT,                          -- the worker running it
    lease_until INTEGER,                       -- unix milliseconds; an expired lease is free
    error       TEXT
);
CREATE INDEX checks_by_key ON checks (input_key, created_at);
CREATE INDEX checks_by_status ON checks (status, created_at);
CREATE INDEX checks_by_topic ON checks (topic, created_at);
CREATE INDEX checks_by_created ON checks (created_at);

CREATE TABLE reports (
    check_id   TEXT NOT NULL REFERENCES checks (id),
    version    INTEGER NOT NULL,
    json       TEXT NOT NULL,                  -- the report exactly as `check --format json`
    label      TEXT NOT NULL,
    rating     INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (check_id, version)
);

-- The sources each report version cites; the stored copies themselves (the snapshots) live in
-- the knowledge bases, content-addressed by `doc_id` and hashed.
CREATE TABLE sources (
    check_id TEXT NOT NULL,
    version  INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    doc_id   TEXT NOT NULL,
    kb       TEXT NOT NULL,
    title    TEXT NOT NULL,
    url      TEXT,
    PRIMARY KEY (check_id, version, n),
    FOREIGN KEY (check_id, version) REFERENCES reports (check_id, version)
);
CREATE INDEX sources_by_doc ON sources (doc_id);

CREATE TABLE events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,  -- the SSE event id
    check_id TEXT NOT NULL REFERENCES checks (id),
    run      INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    data     TEXT NOT NULL,                      -- JSON
    at       TEXT NOT NULL
);
CREATE INDEX events_by_check ON events (check_id, id);

CREATE TABLE donations (
    event_id     TEXT PRIMARY KEY,               -- the payment provider's event id
    amount_cents INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    at           TEXT NOT NULL
);

CREATE TABLE error_reports (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    check_id TEXT NOT NULL REFERENCES checks (id),
    message  TEXT NOT NULL,
    at       TEXT NOT NULL
);

-- Full-text search over past checks: the question and the latest report's summary.
CREATE VIRTUAL TABLE checks_fts USING fts5 (check_id UNINDEXED, input, summary, tokenize = 'porter unicode61');

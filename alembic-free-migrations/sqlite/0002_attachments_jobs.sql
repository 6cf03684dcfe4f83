-- Attachments, the jobs that read them, their numbered events, and the
-- Idempotency-Keys of uploads. Same conventions as 0001: UTC text times
-- with milliseconds, parents named by id without FOREIGN KEY clauses.

CREATE TABLE attachments (
    id           TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL,
    task_id      TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    filename     TEXT NOT NULL,
    media_type   TEXT NOT NULL,
    size         INTEGER NOT NULL,
    storage_key  TEXT NOT NULL,
    language     TEXT NOT NULL,
    job_id       TEXT,
    created_at   TEXT NOT NULL
);

-- A task's list, newest first, and removing a deleted task's attachments.
CREATE INDEX attachments_by_task_created ON attachments (task_id, created_at, id);

CREATE TABLE jobs (
    id                TEXT PRIMARY KEY,
    owner_id          TEXT NOT NULL,
    task_id           TEXT NOT NULL,
    attachment_id     TEXT NOT NULL,
    storage_key       TEXT NOT NULL,
    media_type        TEXT NOT NULL,
    language          TEXT NOT NULL,
    status            TEXT NOT NULL,
    stage             TEXT,
    pages_done        INTEGER NOT NULL,
    pages_total       INTEGER NOT NULL,
    error_code        TEXT,
    error_message     TEXT,
    text              TEXT,
    summary           TEXT,
    attempts          INTEGER NOT NULL,
    cancel_requested  INTEGER NOT NULL,
    queued_at         TEXT NOT NULL,
    started_at        TEXT,
    finished_at       TEXT,
    heartbeat_at      TEXT
);

CREATE INDEX jobs_by_task_queued ON jobs (task_id, queued_at, id);
CREATE INDEX jobs_by_attachment ON jobs (attachment_id);
-- The per-user cap on jobs in flight.
CREATE INDEX jobs_by_owner_status ON jobs (owner_id, status);
-- The sweep for queued jobs nobody took and running ones that went quiet.
CREATE INDEX jobs_by_status_queued ON jobs (status, queued_at);
CREATE INDEX jobs_by_status_heartbeat ON jobs (status, heartbeat_at);

-- seq counts up from 1 for each job; data is a JSON object.
CREATE TABLE job_events (
    job_id      TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    type        TEXT NOT NULL,
    data        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;

CREATE TABLE idempotency_keys (
    owner_id       TEXT NOT NULL,
    key            TEXT NOT NULL,
    attachment_id  TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (owner_id, key)
) WITHOUT ROWID;

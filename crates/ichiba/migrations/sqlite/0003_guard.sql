-- Contact guard enforcement: violation records (no text, only its hash and the findings' spans),
-- sanctions (restrictions and suspensions), appeals, and the audit log of operator actions.
-- Twin of migrations/postgres/0003_guard.sql: keep both in step.

CREATE TABLE guard_violations (
    id              TEXT PRIMARY KEY,
    user_id         TEXT REFERENCES users (id),
    text_sha256     TEXT NOT NULL,
    findings_json   TEXT NOT NULL,
    context_json    TEXT NOT NULL,
    at_ms           BIGINT NOT NULL,
    voided          SMALLINT NOT NULL DEFAULT 0 CHECK (voided IN (0, 1))
);
CREATE INDEX guard_violations_by_user ON guard_violations (user_id, at_ms);

CREATE TABLE sanctions (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id),
    kind            TEXT NOT NULL CHECK (kind IN ('restriction', 'suspension')),
    reason          TEXT NOT NULL,
    starts_at_ms    BIGINT NOT NULL,
    until_at_ms     BIGINT,
    lifted_at_ms    BIGINT,
    lifted_by       TEXT
);
CREATE INDEX sanctions_by_user ON sanctions (user_id, starts_at_ms);

CREATE TABLE guard_appeals (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id),
    violation_id    TEXT REFERENCES guard_violations (id),
    text            TEXT NOT NULL,
    context_json    TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'allowed', 'upheld')),
    created_at_ms   BIGINT NOT NULL,
    decided_at_ms   BIGINT,
    decided_by      TEXT,
    note            TEXT NOT NULL DEFAULT ''
);
CREATE INDEX guard_appeals_by_state ON guard_appeals (state, created_at_ms);

CREATE TABLE audit_log (
    id              TEXT PRIMARY KEY,
    at_ms           BIGINT NOT NULL,
    actor_id        TEXT,
    action          TEXT NOT NULL,
    target_user_id  TEXT,
    detail_json     TEXT NOT NULL
);
CREATE INDEX audit_log_by_target ON audit_log (target_user_id, at_ms);

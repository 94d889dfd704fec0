-- Payouts (振込申請): bank accounts and their change history, payout requests, export batches
-- (Zengin files), the 120-day reminders already sent, and the sweep's run marker.
-- Twin of migrations/sqlite/0005_payouts.sql: keep both in step (only the blob type differs).

-- The user's registered bank account (振込口座). The account number is stored in full (the export
-- needs it) and shown masked everywhere else.
CREATE TABLE bank_accounts (
    user_id           TEXT PRIMARY KEY REFERENCES users (id),
    bank_code         TEXT NOT NULL,
    branch_code       TEXT NOT NULL,
    account_type      SMALLINT NOT NULL CHECK (account_type IN (1, 2, 4)),
    account_number    TEXT NOT NULL,
    holder_kana       TEXT NOT NULL,
    needs_correction  SMALLINT NOT NULL DEFAULT 0 CHECK (needs_correction IN (0, 1)),
    correction_reason TEXT,
    version           BIGINT NOT NULL,
    created_at_ms     BIGINT NOT NULL,
    updated_at_ms     BIGINT NOT NULL
);

-- Every change of a bank account (registered, updated, removed, marked for correction).
CREATE TABLE bank_account_changes (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id),
    at_ms           BIGINT NOT NULL,
    actor           TEXT NOT NULL CHECK (actor IN ('user', 'operator', 'system')),
    actor_id        TEXT,
    action          TEXT NOT NULL CHECK (action IN ('registered', 'updated', 'removed', 'marked_for_correction')),
    before_json     TEXT,
    after_json      TEXT
);
CREATE INDEX bank_account_changes_by_user ON bank_account_changes (user_id, at_ms);

-- A Zengin file as exported, kept so it can be downloaded again.
CREATE TABLE payout_batches (
    id              TEXT PRIMARY KEY,
    pay_date        TEXT NOT NULL,
    payout_count    BIGINT NOT NULL,
    total_yen       BIGINT NOT NULL,
    file_bytes      BYTEA NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    created_by      TEXT NOT NULL
);

-- A payout request; the destination is a snapshot of the bank account at request time.
CREATE TABLE payouts (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users (id),
    state            TEXT NOT NULL CHECK (state IN ('pending', 'exported', 'paid', 'failed')),
    version          BIGINT NOT NULL,
    origin           TEXT NOT NULL CHECK (origin IN ('user', 'automatic')),
    amount_yen       BIGINT NOT NULL CHECK (amount_yen > 0),
    fee_yen          BIGINT NOT NULL CHECK (fee_yen >= 0),
    net_yen          BIGINT NOT NULL CHECK (net_yen > 0 AND net_yen + fee_yen = amount_yen),
    requested_at_ms  BIGINT NOT NULL,
    scheduled_for    TEXT NOT NULL,
    bank_code        TEXT NOT NULL,
    branch_code      TEXT NOT NULL,
    account_type     SMALLINT NOT NULL CHECK (account_type IN (1, 2, 4)),
    account_number   TEXT NOT NULL,
    holder_kana      TEXT NOT NULL,
    batch_id         TEXT REFERENCES payout_batches (id),
    exported_at_ms   BIGINT,
    settled_at_ms    BIGINT,
    failure_reason   TEXT
);
CREATE INDEX payouts_by_user ON payouts (user_id, requested_at_ms);
CREATE INDEX payouts_due ON payouts (state, scheduled_for);
-- One open request per user: the database's own guard against two concurrent requests.
CREATE UNIQUE INDEX payouts_one_open_per_user ON payouts (user_id) WHERE state IN ('pending', 'exported');

-- Which payout a ledger transfer belongs to, so a seller's ledger shows the payout and its status.
ALTER TABLE ledger_transfers ADD COLUMN payout_id TEXT;

-- 120-day reminders already sent: one per user, deadline and threshold.
CREATE TABLE payout_reminders (
    user_id         TEXT NOT NULL REFERENCES users (id),
    deadline_ms     BIGINT NOT NULL,
    days_before     BIGINT NOT NULL,
    sent_at_ms      BIGINT NOT NULL,
    PRIMARY KEY (user_id, deadline_ms, days_before)
);

-- When each periodic sweep last ran (claimed with a compare-and-set so one instance runs it).
CREATE TABLE payout_sweeps (
    name            TEXT PRIMARY KEY,
    last_run_ms     BIGINT NOT NULL
);

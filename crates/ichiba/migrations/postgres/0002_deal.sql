-- The deal: orders (取引), talk rooms and direct messages, attachments, the double-entry ledger,
-- timers, notifications, message templates (定型文) and idempotency keys.
-- Twin of migrations/sqlite/0002_deal.sql: keep both in step.

CREATE TABLE orders (
    id                      TEXT PRIMARY KEY,
    listing_id              TEXT NOT NULL REFERENCES listings (id),
    buyer_id                TEXT NOT NULL REFERENCES users (id),
    seller_id               TEXT NOT NULL REFERENCES users (id),
    title                   TEXT NOT NULL,
    state                   TEXT NOT NULL CHECK (state IN
                                ('pending_first_reply', 'in_progress', 'delivered', 'completed', 'cancelled')),
    version                 BIGINT NOT NULL,
    policy_json             TEXT NOT NULL,
    price_yen               BIGINT NOT NULL,
    options_yen             BIGINT NOT NULL,
    buyer_fee_yen           BIGINT NOT NULL,
    total_yen               BIGINT NOT NULL,
    points_used             BIGINT NOT NULL,
    charge_id               TEXT,
    purchased_at_ms         BIGINT NOT NULL,
    first_reply_deadline_ms BIGINT NOT NULL,
    first_replied_at_ms     BIGINT,
    due_at_ms               BIGINT NOT NULL,
    delivered_at_ms         BIGINT,
    accept_deadline_ms      BIGINT,
    completed_at_ms         BIGINT,
    cancelled_at_ms         BIGINT,
    send_backs_used         BIGINT NOT NULL DEFAULT 0,
    late                    SMALLINT NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
    last_buyer_message_ms   BIGINT,
    last_seller_message_ms  BIGINT,
    cancel_reason_code      TEXT,
    cancel_fault            TEXT CHECK (cancel_fault IS NULL OR cancel_fault IN ('seller', 'buyer', 'none')),
    cancel_by               TEXT CHECK (cancel_by IS NULL OR cancel_by IN ('seller', 'buyer', 'system', 'operator')),
    settlement_seller_yen   BIGINT,
    pending_cancel_json     TEXT
);
CREATE INDEX orders_by_buyer ON orders (buyer_id, purchased_at_ms);
CREATE INDEX orders_by_seller ON orders (seller_id, purchased_at_ms);

CREATE TABLE order_options (
    order_id        TEXT NOT NULL REFERENCES orders (id),
    position        BIGINT NOT NULL,
    option_id       TEXT NOT NULL,
    title           TEXT NOT NULL,
    price_yen       BIGINT NOT NULL,
    extra_days      BIGINT NOT NULL,
    PRIMARY KEY (order_id, position)
);

-- The order's history: due-date changes, cancel requests and their outcomes, operator actions.
CREATE TABLE order_events (
    id              TEXT PRIMARY KEY,
    order_id        TEXT NOT NULL REFERENCES orders (id),
    at_ms           BIGINT NOT NULL,
    actor           TEXT NOT NULL,
    actor_id        TEXT,
    kind            TEXT NOT NULL,
    detail_json     TEXT NOT NULL
);
CREATE INDEX order_events_by_order ON order_events (order_id, at_ms);

CREATE TABLE threads (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('order', 'direct')),
    order_id        TEXT UNIQUE REFERENCES orders (id),
    user_a          TEXT NOT NULL REFERENCES users (id),
    user_b          TEXT NOT NULL REFERENCES users (id),
    created_at_ms   BIGINT NOT NULL,
    last_message_at_ms BIGINT NOT NULL
);
-- One direct thread per pair; a pair may share any number of talk rooms (one per order).
CREATE UNIQUE INDEX threads_direct_pair ON threads (user_a, user_b) WHERE kind = 'direct';
CREATE INDEX threads_by_a ON threads (user_a, last_message_at_ms);
CREATE INDEX threads_by_b ON threads (user_b, last_message_at_ms);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    thread_id       TEXT NOT NULL REFERENCES threads (id),
    author_id       TEXT REFERENCES users (id),
    kind            TEXT NOT NULL CHECK (kind IN ('text', 'delivery', 'system')),
    body            TEXT NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    seq             BIGINT NOT NULL,
    UNIQUE (thread_id, seq)
);

CREATE TABLE thread_reads (
    thread_id       TEXT NOT NULL REFERENCES threads (id),
    user_id         TEXT NOT NULL REFERENCES users (id),
    last_read_seq   BIGINT NOT NULL,
    PRIMARY KEY (thread_id, user_id)
);

CREATE TABLE attachments (
    id              TEXT PRIMARY KEY,
    owner_id        TEXT NOT NULL REFERENCES users (id),
    sha256          TEXT NOT NULL,
    filename        TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    created_at_ms   BIGINT NOT NULL
);

CREATE TABLE message_attachments (
    message_id      TEXT NOT NULL REFERENCES messages (id),
    attachment_id   TEXT NOT NULL REFERENCES attachments (id),
    position        BIGINT NOT NULL,
    PRIMARY KEY (message_id, attachment_id)
);
CREATE INDEX message_attachments_by_attachment ON message_attachments (attachment_id);

-- Double-entry ledger. Balances are kept on the account row and recomputed by `admin verify`.
CREATE TABLE ledger_accounts (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    owner_id        TEXT,
    may_go_negative SMALLINT NOT NULL CHECK (may_go_negative IN (0, 1)),
    balance_yen     BIGINT NOT NULL DEFAULT 0,
    created_at_ms   BIGINT NOT NULL,
    CHECK (may_go_negative = 1 OR balance_yen >= 0)
);

CREATE TABLE ledger_transfers (
    id              TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    code            TEXT NOT NULL,
    order_id        TEXT,
    at_ms           BIGINT NOT NULL,
    memo            TEXT NOT NULL
);
CREATE INDEX ledger_transfers_by_order ON ledger_transfers (order_id);

CREATE TABLE ledger_entries (
    id              TEXT PRIMARY KEY,
    transfer_id     TEXT NOT NULL REFERENCES ledger_transfers (id),
    account_id      TEXT NOT NULL REFERENCES ledger_accounts (id),
    amount_yen      BIGINT NOT NULL,
    at_ms           BIGINT NOT NULL
);
CREATE INDEX ledger_entries_by_account ON ledger_entries (account_id, at_ms);
CREATE INDEX ledger_entries_by_transfer ON ledger_entries (transfer_id);

-- Scheduled commands, claimed by workers with a compare-and-set lease.
CREATE TABLE timers (
    id              TEXT PRIMARY KEY,
    order_id        TEXT NOT NULL REFERENCES orders (id),
    kind            TEXT NOT NULL,
    due_at_ms       BIGINT NOT NULL,
    done            SMALLINT NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
    lease_until_ms  BIGINT NOT NULL DEFAULT 0,
    attempts        BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX timers_due ON timers (done, due_at_ms);

CREATE TABLE notifications (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id),
    kind            TEXT NOT NULL,
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    order_id        TEXT,
    created_at_ms   BIGINT NOT NULL,
    read_at_ms      BIGINT
);
CREATE INDEX notifications_by_user ON notifications (user_id, created_at_ms);

CREATE TABLE message_templates (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id),
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    position        BIGINT NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    updated_at_ms   BIGINT NOT NULL
);
CREATE INDEX message_templates_by_user ON message_templates (user_id, position);

CREATE TABLE idempotency_keys (
    user_id         TEXT NOT NULL,
    scope           TEXT NOT NULL,
    key             TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    status          BIGINT NOT NULL,
    response_json   TEXT NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    PRIMARY KEY (user_id, scope, key)
);

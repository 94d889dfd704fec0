-- Accounts, sessions, login attempts and listings (サービス).
-- Twin of migrations/sqlite/0001_accounts_listings.sql: keep both in step.
-- Portable subset: ids are TEXT, times are integer milliseconds, flags are SMALLINT 0/1.

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    bio             TEXT NOT NULL DEFAULT '',
    is_operator     SMALLINT NOT NULL DEFAULT 0 CHECK (is_operator IN (0, 1)),
    created_at_ms   BIGINT NOT NULL,
    updated_at_ms   BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash      TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at_ms   BIGINT NOT NULL,
    expires_at_ms   BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE login_attempts (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL,
    client_addr     TEXT NOT NULL,
    at_ms           BIGINT NOT NULL,
    succeeded       SMALLINT NOT NULL CHECK (succeeded IN (0, 1))
);
CREATE INDEX login_attempts_by_email ON login_attempts (email, at_ms);
CREATE INDEX login_attempts_by_addr ON login_attempts (client_addr, at_ms);

CREATE TABLE listings (
    id              TEXT PRIMARY KEY,
    seller_id       TEXT NOT NULL REFERENCES users (id),
    title           TEXT NOT NULL,
    description     TEXT NOT NULL,
    category        TEXT NOT NULL,
    price_yen       BIGINT NOT NULL CHECK (price_yen > 0),
    delivery_days   BIGINT NOT NULL CHECK (delivery_days > 0),
    status          TEXT NOT NULL CHECK (status IN ('active', 'paused', 'deleted')),
    created_at_ms   BIGINT NOT NULL,
    updated_at_ms   BIGINT NOT NULL
);
CREATE INDEX listings_by_seller ON listings (seller_id, status);
CREATE INDEX listings_by_new ON listings (status, created_at_ms, id);
CREATE INDEX listings_by_price ON listings (status, price_yen, id);
CREATE INDEX listings_by_category ON listings (category, status, created_at_ms);

CREATE TABLE listing_options (
    id              TEXT PRIMARY KEY,
    listing_id      TEXT NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    position        BIGINT NOT NULL,
    title           TEXT NOT NULL,
    price_yen       BIGINT NOT NULL CHECK (price_yen > 0),
    extra_days      BIGINT NOT NULL CHECK (extra_days >= 0),
    UNIQUE (listing_id, position)
);

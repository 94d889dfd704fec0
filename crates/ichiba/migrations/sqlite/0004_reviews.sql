-- Reviews (評価), seller ranks, search text and recommended scores.
-- Twin of migrations/postgres/0004_reviews.sql: keep both in step.

CREATE TABLE reviews (
    id              TEXT PRIMARY KEY,
    order_id        TEXT NOT NULL REFERENCES orders (id),
    listing_id      TEXT NOT NULL,
    reviewer_id     TEXT NOT NULL REFERENCES users (id),
    reviewee_id     TEXT NOT NULL REFERENCES users (id),
    direction       TEXT NOT NULL CHECK (direction IN ('buyer_to_seller', 'seller_to_buyer')),
    public_rating   SMALLINT NOT NULL CHECK (public_rating BETWEEN 1 AND 5),
    comment         TEXT NOT NULL,
    private_rating  SMALLINT NOT NULL CHECK (private_rating BETWEEN 1 AND 5),
    created_at_ms   BIGINT NOT NULL,
    window_end_ms   BIGINT NOT NULL,
    published_at_ms BIGINT,
    reply_body      TEXT,
    reply_at_ms     BIGINT,
    UNIQUE (order_id, reviewer_id)
);
CREATE INDEX reviews_by_reviewee ON reviews (reviewee_id, published_at_ms);
CREATE INDEX reviews_by_listing ON reviews (listing_id, published_at_ms);
CREATE INDEX reviews_unpublished ON reviews (published_at_ms, window_end_ms);

ALTER TABLE users ADD COLUMN identity_verified SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_login_at_ms BIGINT;

CREATE TABLE seller_ranks (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id),
    rank            TEXT NOT NULL CHECK (rank IN ('none', 'regular', 'bronze', 'silver', 'gold', 'platinum')),
    period          TEXT NOT NULL,
    computed_at_ms  BIGINT NOT NULL,
    detail_json     TEXT NOT NULL,
    UNIQUE (user_id, period)
);
CREATE INDEX seller_ranks_by_user ON seller_ranks (user_id, computed_at_ms);

-- Folded title and description (NFKC, lower case, katakana as hiragana) for substring search,
-- and the recommended score with its factors, kept up to date by the service.
ALTER TABLE listings ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
ALTER TABLE listings ADD COLUMN score_micros BIGINT NOT NULL DEFAULT 0;
ALTER TABLE listings ADD COLUMN score_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE listings ADD COLUMN rating_avg_milli BIGINT;
ALTER TABLE listings ADD COLUMN rating_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE listings ADD COLUMN seller_rank TEXT NOT NULL DEFAULT 'none';
CREATE INDEX listings_by_score ON listings (status, score_micros, id);

-- Periodic sweeps (daily score refresh, monthly ranks): the period each last ran for, claimed
-- with a conditional upsert so only one instance runs a sweep per period.
CREATE TABLE job_marks (
    name            TEXT PRIMARY KEY,
    period          TEXT NOT NULL,
    at_ms           BIGINT NOT NULL
);

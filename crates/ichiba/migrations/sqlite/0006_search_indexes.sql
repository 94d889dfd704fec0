-- Indexes for the public list: the recommended order per category, and a character-bigram index
-- for substring search (2-character Japanese words such as ロゴ are common, so trigram indexes
-- would not serve them).
-- Twin of migrations/postgres/0006_search_indexes.sql: keep both in step.

-- おすすめ順 within a category, in index order (no sort).
CREATE INDEX listings_by_category_score ON listings (category, status, score_micros, id);

-- Every distinct pair of adjacent characters of a listing's search_text (folded title and
-- description), kept by listings::store whenever search_text is written. A listing whose
-- search_text contains a word contains every bigram of it, so the listing set of the word's
-- rarest bigram is a superset of the matches; the LIKE filter stays and decides.
CREATE TABLE listing_search_grams (
    gram            TEXT NOT NULL,
    listing_id      TEXT NOT NULL REFERENCES listings (id),
    PRIMARY KEY (gram, listing_id)
) WITHOUT ROWID;

-- Backfill of the listings that exist already (pairs with whitespace are harmless extras).
INSERT OR IGNORE INTO listing_search_grams (gram, listing_id)
WITH RECURSIVE pos (listing_id, t, i) AS (
    SELECT id, search_text, 1 FROM listings WHERE length(search_text) >= 2
    UNION ALL
    SELECT listing_id, t, i + 1 FROM pos WHERE i + 2 <= length(t)
)
SELECT substr(t, i, 2), listing_id FROM pos;

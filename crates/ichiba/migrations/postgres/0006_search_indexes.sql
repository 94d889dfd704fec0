-- Indexes for the public list: the recommended order per category, and a character-bigram index
-- for substring search (2-character Japanese words such as ロゴ are common, so trigram indexes
-- would not serve them).
-- Twin of migrations/sqlite/0006_search_indexes.sql: keep both in step.

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
);

-- Backfill of the listings that exist already (pairs with whitespace are harmless extras).
INSERT INTO listing_search_grams (gram, listing_id)
SELECT DISTINCT substr(l.search_text, i, 2), l.id
FROM listings l, generate_series(1, length(l.search_text) - 1) AS i
ON CONFLICT DO NOTHING;

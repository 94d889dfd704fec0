-- What the search planner needs to avoid touching `listings` rows: how many listings have each
-- bigram, and a covering index that gives a candidate's filter and sort columns by id.
-- Twin of migrations/postgres/0007_search_planning.sql: keep both in step.

-- How many listings have each bigram of listing_search_grams (its posting list length), kept by
-- listings::store in the same transaction as the bigram rows. The row with the empty gram, which
-- is never a bigram, counts the listings. The search uses the counts only to choose a plan
-- (start from the rarest bigrams or walk the sort order); results never depend on them.
CREATE TABLE listing_search_gram_counts (
    gram            TEXT PRIMARY KEY,
    listings        BIGINT NOT NULL
) WITHOUT ROWID;

INSERT INTO listing_search_gram_counts (gram, listings)
SELECT gram, COUNT(*) FROM listing_search_grams GROUP BY gram;

INSERT INTO listing_search_gram_counts (gram, listings)
SELECT '', COUNT(*) FROM listings;

-- Every column a search filters or sorts on, by id: the candidates of a rare bigram are checked
-- and ordered from this index alone, without reading the (long) listing rows.
CREATE INDEX listings_search_keys ON listings (
    id, status, seller_id, category, price_yen, rating_avg_milli, seller_rank, score_micros,
    created_at_ms
);

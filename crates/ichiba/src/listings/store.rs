//! All SQL of listings and their paid options, including the public list query with filters,
//! sorts and keyset pagination.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::any::AnyArguments;
use sqlx::query::QueryAs;
use sqlx::{Any, AnyConnection};

use super::model::{ListingDraft, ListingStatus, Sort};
use crate::clock::Millis;
use crate::db::new_id;

/// A listing row joined with its seller's display name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListingRow {
    pub id: String,
    pub seller_id: String,
    pub seller_name: String,
    pub title: String,
    pub description: String,
    pub category: String,
    pub price_yen: i64,
    pub delivery_days: i64,
    pub status: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub score_micros: i64,
    pub rating_avg_milli: Option<i64>,
    pub rating_count: i64,
    pub seller_rank: String,
}

/// A paid option row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OptionRow {
    pub id: String,
    pub listing_id: String,
    pub title: String,
    pub price_yen: i64,
    pub extra_days: i64,
}

const SELECT_LISTING: &str = "SELECT l.id, l.seller_id, u.display_name AS seller_name, l.title, \
     l.description, l.category, l.price_yen, l.delivery_days, l.status, l.created_at_ms, \
     l.updated_at_ms, l.score_micros, l.rating_avg_milli, l.rating_count, l.seller_rank \
     FROM listings l JOIN users u ON u.id = l.seller_id";

/// Inserts a listing and its options.
pub async fn insert_listing(
    conn: &mut AnyConnection,
    id: &str,
    seller_id: &str,
    draft: &ListingDraft,
    now: Millis,
) -> Result<(), sqlx::Error> {
    let text = search_text(draft);
    sqlx::query(
        "INSERT INTO listings (id, seller_id, title, description, category, price_yen, \
         delivery_days, status, created_at_ms, updated_at_ms, search_text) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $8, $9)",
    )
    .bind(id)
    .bind(seller_id)
    .bind(&draft.title)
    .bind(&draft.description)
    .bind(draft.category.slug)
    .bind(draft.price_yen)
    .bind(draft.delivery_days)
    .bind(now)
    .bind(&text)
    .execute(&mut *conn)
    .await?;
    write_search_grams(conn, id, &BTreeSet::new(), &search_grams(&text), true).await?;
    replace_options(conn, id, draft).await
}

fn search_text(draft: &ListingDraft) -> String {
    super::model::fold_for_search(&format!("{}\n{}", draft.title, draft.description))
}

/// The distinct pairs of adjacent characters of a folded text, without pairs that contain
/// whitespace (search words never do). What `listing_search_grams` holds for each listing.
pub fn search_grams(folded: &str) -> BTreeSet<String> {
    let chars: Vec<char> = folded.chars().collect();
    chars
        .windows(2)
        .filter(|w| !w[0].is_whitespace() && !w[1].is_whitespace())
        .map(|w| w.iter().collect())
        .collect()
}

/// Brings the listing's rows of `listing_search_grams` from the `old` set to the `new` one, and
/// `listing_search_gram_counts` with them (`new_listing` also counts the listing itself, under the
/// empty gram). Called in the transaction that writes `search_text`.
async fn write_search_grams(
    conn: &mut AnyConnection,
    listing_id: &str,
    old: &BTreeSet<String>,
    new: &BTreeSet<String>,
    new_listing: bool,
) -> Result<(), sqlx::Error> {
    // Chunks of 200 pairs keep every statement far below both backends' parameter limits.
    let gone: Vec<&String> = old.difference(new).collect();
    for chunk in gone.chunks(200) {
        let list: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
        let sql = format!(
            "DELETE FROM listing_search_grams WHERE listing_id = $1 AND gram IN ({})",
            list.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(listing_id);
        for g in chunk {
            q = q.bind(g.as_str());
        }
        q.execute(&mut *conn).await?;
    }
    let added: Vec<&String> = new.difference(old).collect();
    for chunk in added.chunks(200) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, $1)", i + 2))
            .collect();
        let sql = format!(
            "INSERT INTO listing_search_grams (gram, listing_id) VALUES {} ON CONFLICT DO NOTHING",
            rows.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(listing_id);
        for g in chunk {
            q = q.bind(g.as_str());
        }
        q.execute(&mut *conn).await?;
    }
    // One upsert per chunk, in gram order: concurrent writers on PostgreSQL lock the count rows
    // in the same order, so they wait for each other instead of deadlocking.
    let mut deltas: BTreeMap<&str, i64> = BTreeMap::new();
    if new_listing {
        deltas.insert("", 1);
    }
    deltas.extend(gone.iter().map(|g| (g.as_str(), -1)));
    deltas.extend(added.iter().map(|g| (g.as_str(), 1)));
    let deltas: Vec<(&str, i64)> = deltas.into_iter().collect();
    for chunk in deltas.chunks(200) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let sql = format!(
            "INSERT INTO listing_search_gram_counts (gram, listings) VALUES {} \
             ON CONFLICT (gram) DO UPDATE \
             SET listings = listing_search_gram_counts.listings + excluded.listings",
            rows.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (gram, delta) in chunk {
            q = q.bind(*gram).bind(*delta);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Overwrites the listing's fields and options.
pub async fn update_listing(
    conn: &mut AnyConnection,
    id: &str,
    draft: &ListingDraft,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    let old: Option<String> = sqlx::query_scalar(
        "SELECT search_text FROM listings WHERE id = $1 AND status <> 'deleted'",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(old) = old else {
        return Ok(false);
    };
    let text = search_text(draft);
    let r = sqlx::query(
        "UPDATE listings SET title = $2, description = $3, category = $4, price_yen = $5, \
         delivery_days = $6, updated_at_ms = $7, search_text = $8 \
         WHERE id = $1 AND status <> 'deleted'",
    )
    .bind(id)
    .bind(&draft.title)
    .bind(&draft.description)
    .bind(draft.category.slug)
    .bind(draft.price_yen)
    .bind(draft.delivery_days)
    .bind(now)
    .bind(&text)
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    write_search_grams(conn, id, &search_grams(&old), &search_grams(&text), false).await?;
    replace_options(conn, id, draft).await?;
    Ok(true)
}

async fn replace_options(
    conn: &mut AnyConnection,
    listing_id: &str,
    draft: &ListingDraft,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM listing_options WHERE listing_id = $1")
        .bind(listing_id)
        .execute(&mut *conn)
        .await?;
    for (position, o) in draft.options.iter().enumerate() {
        sqlx::query(
            "INSERT INTO listing_options (id, listing_id, position, title, price_yen, extra_days) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id())
        .bind(listing_id)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(&o.title)
        .bind(o.price_yen)
        .bind(o.extra_days)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Compare-and-set of the status; returns whether the row changed.
pub async fn set_status(
    conn: &mut AnyConnection,
    id: &str,
    from: ListingStatus,
    to: ListingStatus,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE listings SET status = $3, updated_at_ms = $4 WHERE id = $1 AND status = $2",
    )
    .bind(id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// One listing by id, whatever its status.
pub async fn listing_by_id(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<ListingRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_LISTING} WHERE l.id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The options of the given listings, in their order.
pub async fn options_of(
    conn: &mut AnyConnection,
    listing_ids: &[String],
) -> Result<Vec<OptionRow>, sqlx::Error> {
    if listing_ids.is_empty() {
        return Ok(vec![]);
    }
    let placeholders: Vec<String> = (1..=listing_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id, listing_id, title, price_yen, extra_days FROM listing_options \
         WHERE listing_id IN ({}) ORDER BY listing_id, position",
        placeholders.join(", ")
    );
    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for id in listing_ids {
        q = q.bind(id);
    }
    q.fetch_all(conn).await
}

/// Which listings a list query returns.
#[derive(Debug, Clone, Default)]
pub struct ListingFilter {
    /// Only this seller's listings (any status but deleted); `None` = the public list (active).
    pub seller_id: Option<String>,
    /// Words that must appear in the title or description.
    pub q: Option<String>,
    /// Category slug.
    pub category: Option<String>,
    /// Minimum price, inclusive.
    pub min_price_yen: Option<i64>,
    /// Maximum price, inclusive.
    pub max_price_yen: Option<i64>,
    /// Minimum average rating in thousandths (4.5 → 4500).
    pub min_rating_milli: Option<i64>,
    /// Only sellers of these ranks.
    pub seller_ranks: Option<Vec<&'static str>>,
    /// Order.
    pub sort: Sort,
    /// Keyset position after which to continue: (sort key, id).
    pub after: Option<(i64, String)>,
    /// Page size.
    pub limit: i64,
}

enum Param {
    Text(String),
    Int(i64),
}

/// The parameters of a statement being assembled.
#[derive(Default)]
struct Params(Vec<Param>);

impl Params {
    /// Adds a parameter and returns its placeholder.
    fn push(&mut self, p: Param) -> String {
        self.0.push(p);
        format!("${}", self.0.len())
    }

    fn text(&mut self, s: impl Into<String>) -> String {
        self.push(Param::Text(s.into()))
    }

    fn int(&mut self, i: i64) -> String {
        self.push(Param::Int(i))
    }
}

/// Runs an assembled statement.
async fn fetch_all<T>(
    conn: &mut AnyConnection,
    sql: String,
    params: Params,
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let mut q: QueryAs<'_, Any, T, AnyArguments> = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for p in params.0 {
        q = match p {
            Param::Text(s) => q.bind(s),
            Param::Int(i) => q.bind(i),
        };
    }
    q.fetch_all(conn).await
}

/// The sort column of an order and whether it descends; the id breaks ties in the same direction.
fn sort_key(sort: Sort) -> (&'static str, bool) {
    match sort {
        Sort::Recommended => ("score_micros", true),
        Sort::New => ("created_at_ms", true),
        Sort::PriceAsc => ("price_yen", false),
        Sort::PriceDesc => ("price_yen", true),
    }
}

/// The conditions a walk of the sort order ranges over, on the listing aliased `a`: status (or
/// seller), category and the keyset position `after`.
fn range_conditions(
    filter: &ListingFilter,
    a: &str,
    after: Option<&(i64, String)>,
    params: &mut Params,
) -> Vec<String> {
    let mut conds = Vec::new();
    match &filter.seller_id {
        Some(seller) => {
            let p = params.text(seller.clone());
            conds.push(format!("{a}.seller_id = {p} AND {a}.status <> 'deleted'"));
        }
        None => conds.push(format!("{a}.status = 'active'")),
    }
    if let Some(c) = &filter.category {
        let p = params.text(c.clone());
        conds.push(format!("{a}.category = {p}"));
    }
    if let Some(position) = after {
        conds.push(after_condition(filter.sort, a, position, params));
    }
    conds
}

/// Keyset pagination: after `(key, id)` in the sort order, the id breaking ties in the same
/// direction.
fn after_condition(sort: Sort, a: &str, (key, id): &(i64, String), params: &mut Params) -> String {
    let (column, desc) = sort_key(sort);
    let k = params.int(*key);
    let i = params.text(id.clone());
    let cmp = if desc { "<" } else { ">" };
    format!("({a}.{column} {cmp} {k} OR ({a}.{column} = {k} AND {a}.id {cmp} {i}))")
}

/// The filter's other conditions (price, rating, rank), on the listing aliased `a`.
fn rest_conditions(filter: &ListingFilter, a: &str, params: &mut Params) -> Vec<String> {
    let mut conds = Vec::new();
    if let Some(min) = filter.min_price_yen {
        let p = params.int(min);
        conds.push(format!("{a}.price_yen >= {p}"));
    }
    if let Some(max) = filter.max_price_yen {
        let p = params.int(max);
        conds.push(format!("{a}.price_yen <= {p}"));
    }
    if let Some(min) = filter.min_rating_milli {
        let p = params.int(min);
        conds.push(format!("{a}.rating_avg_milli >= {p}"));
    }
    if let Some(ranks) = &filter.seller_ranks {
        let list: Vec<String> = ranks.iter().map(|r| params.text(*r)).collect();
        conds.push(format!("{a}.seller_rank IN ({})", list.join(", ")));
    }
    conds
}

/// `ORDER BY` of the filter's sort on the listing aliased `a`.
fn order_by(sort: Sort, a: &str) -> String {
    let (key, desc) = sort_key(sort);
    let dir = if desc { "DESC" } else { "ASC" };
    format!("ORDER BY {a}.{key} {dir}, {a}.id {dir}")
}

/// A page of listings for the filter. Returns up to `limit + 1` rows so the caller knows whether
/// another page follows.
///
/// Words of two or more characters are served from `listing_search_grams`: either by walking the
/// sort order and keeping the listings that have the rarest bigram of every word, or by starting
/// from the intersection of those bigrams' listings, whichever the counts of
/// `listing_search_gram_counts` make cheaper. A two-character word is its own bigram, so the
/// bigram decides it exactly; every other word (one character, or three and more) is also checked
/// with `LIKE` on `search_text`. The result is always that of the plain query: every word a
/// substring of `search_text`, every filter, the keyset position and the order.
pub async fn list_listings(
    conn: &mut AnyConnection,
    filter: &ListingFilter,
) -> Result<Vec<ListingRow>, sqlx::Error> {
    match plan(conn, filter).await? {
        Some(plan) => run(conn, filter, &plan).await,
        None => scan(conn, filter).await,
    }
}

/// The query without bigrams: walk the sort order and filter, with `LIKE` for the words (no
/// words, or one-character words only).
async fn scan(
    conn: &mut AnyConnection,
    filter: &ListingFilter,
) -> Result<Vec<ListingRow>, sqlx::Error> {
    let words = filter.q.as_deref().map(search_words).unwrap_or_default();
    let mut params = Params::default();
    let mut conds = range_conditions(filter, "l", filter.after.as_ref(), &mut params);
    conds.extend(rest_conditions(filter, "l", &mut params));
    conds.extend(words.iter().map(|w| like(w, "l", &mut params)));
    let limit = params.int(filter.limit + 1);
    let sql = format!(
        "{SELECT_LISTING} WHERE {} {} LIMIT {limit}",
        conds.join(" AND "),
        order_by(filter.sort, "l")
    );
    fetch_all(conn, sql, params).await
}

/// Which way a search finds its candidates, in the order of the filter's sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Walk the sort order (an index) over at most this many listings that match the range
    /// conditions, keeping those that have every probe bigram.
    Walk { bound: i64 },
    /// Intersect the posting lists of the probe bigrams, then check and order those listings with
    /// `listings_search_keys`.
    Postings,
}

/// One word's part in a search: its rarest bigram and how many listings have it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Probe {
    gram: String,
    listings: i64,
}

/// The search words: folded, without duplicates, and without the words that are part of another
/// word (a listing containing `ロゴマーク` contains `ロゴ`), which leaves the result unchanged.
fn search_words(q: &str) -> Vec<String> {
    let folded = super::model::fold_for_search(q);
    let mut words: Vec<&str> = folded.split_whitespace().collect();
    words.sort_unstable();
    words.dedup();
    words
        .iter()
        .filter(|w| !words.iter().any(|o| o != *w && o.contains(**w)))
        .map(|w| (*w).to_string())
        .collect()
}

/// Chooses the cheaper source for `probes` (rarest first) among `total` listings, for a page of
/// `want` rows. The unit of cost is one listing looked at: a step of the walk (with its probes) or
/// one candidate of the posting lists (looked up in `listings_search_keys`), about 1–2 µs each on
/// SQLite; PostgreSQL often walks for less, hashing the posting list instead of probing it. Assuming
/// the words occur independently:
///
/// - the walk looks at `want · total / matches` listings;
/// - the posting path looks at every candidate, about `matches`, after intersecting the lists,
///   which costs about a tenth per entry of the lists merged.
///
/// A walk is bounded: twice its estimated length, at most the posting path's cost. If it finds
/// no full page within that many listings (filters the estimate knows nothing of, the last page,
/// correlated words), the search starts over from the postings, so it never costs much more than
/// twice the posting path.
fn choose_source(probes: &[Probe], total: i64, want: i64) -> Source {
    let Some(first) = probes.first() else {
        return Source::Walk { bound: total };
    };
    if first.listings == 0 {
        return Source::Postings;
    }
    let total = total.max(first.listings).max(1) as f64;
    let matches = probes
        .iter()
        .fold(total, |m, p| m * (p.listings as f64 / total))
        .max(1.0);
    let merged: i64 = probes.iter().skip(1).map(|p| p.listings).sum();
    let postings = matches + 0.1 * merged as f64;
    let walk = (want as f64 * total / matches).min(total);
    if walk < postings {
        Source::Walk {
            bound: (2.0 * walk).min(postings).ceil() as i64,
        }
    } else {
        Source::Postings
    }
}

/// How a search with bigrams runs.
#[derive(Debug, Clone)]
struct Plan {
    /// The rarest bigram of each word of two or more characters, rarest first, without repeats.
    probes: Vec<Probe>,
    /// The words the probes do not decide exactly (one character, three and more, or two beyond
    /// the probes): checked with `LIKE`.
    verify: Vec<String>,
    /// Where the candidates come from.
    source: Source,
}

/// The plan of a search, from the counts of its words' bigrams; `None` when no word has a
/// bigram.
async fn plan(
    conn: &mut AnyConnection,
    filter: &ListingFilter,
) -> Result<Option<Plan>, sqlx::Error> {
    let words = filter.q.as_deref().map(search_words).unwrap_or_default();
    // The words with bigrams (a long query's first few: the others are only checked with LIKE),
    // each with some of its bigrams (any bigram of a word is in every listing containing it).
    let grammed: Vec<Vec<String>> = words
        .iter()
        .filter(|w| w.chars().count() >= 2)
        .take(MAX_GRAMMED_WORDS)
        .map(|w| search_grams(w).into_iter().take(MAX_WORD_GRAMS).collect())
        .collect();
    if grammed.is_empty() {
        return Ok(None);
    }
    // The listing counts of those bigrams, and of all listings (the empty gram).
    let grams: BTreeSet<&String> = grammed.iter().flatten().collect();
    let mut params = Params::default();
    let list: Vec<String> = std::iter::once(String::new())
        .chain(grams.into_iter().cloned())
        .map(|g| params.text(g))
        .collect();
    let counts: BTreeMap<String, i64> = fetch_all::<(String, i64)>(
        conn,
        format!(
            "SELECT gram, listings FROM listing_search_gram_counts WHERE gram IN ({})",
            list.join(", ")
        ),
        params,
    )
    .await?
    .into_iter()
    .collect();
    let count = |g: &str| counts.get(g).copied().unwrap_or(0).max(0);
    // Each word's rarest bigram.
    let mut probes: Vec<Probe> = grammed
        .iter()
        .filter_map(|grams| {
            grams
                .iter()
                .map(|g| Probe {
                    listings: count(g),
                    gram: g.clone(),
                })
                .min_by_key(|p| p.listings)
        })
        .collect();
    probes.sort_by(|a, b| (a.listings, &a.gram).cmp(&(b.listings, &b.gram)));
    probes.dedup_by(|a, b| a.gram == b.gram);
    probes.truncate(MAX_PROBES);
    // A two-character word is its own bigram: a probe decides it exactly. Every other word is
    // checked with LIKE.
    let verify = words
        .iter()
        .filter(|w| w.chars().count() != 2 || !probes.iter().any(|p| &p.gram == *w))
        .cloned()
        .collect();
    let source = choose_source(&probes, count(""), filter.limit + 1);
    Ok(Some(Plan {
        probes,
        verify,
        source,
    }))
}

/// How many words of a query are looked up in the bigram counts, how many bigrams of each, and
/// how many of the rarest of them a search intersects: a few rare ones narrow the candidates as
/// well as all of them would, and keep every statement small.
const MAX_GRAMMED_WORDS: usize = 8;
const MAX_WORD_GRAMS: usize = 32;
const MAX_PROBES: usize = 4;

/// Runs a plan. A bounded walk that found no full page may have stopped early: then the posting
/// lists decide.
async fn run(
    conn: &mut AnyConnection,
    filter: &ListingFilter,
    plan: &Plan,
) -> Result<Vec<ListingRow>, sqlx::Error> {
    let rows = page(conn, filter, plan.source, &plan.probes, &plan.verify).await?;
    match plan.source {
        Source::Walk { .. } if (rows.len() as i64) <= filter.limit => {
            page(conn, filter, Source::Postings, &plan.probes, &plan.verify).await
        }
        _ => Ok(rows),
    }
}

/// `LIKE` of a search word on the search text of the listing aliased `a`.
fn like(word: &str, a: &str, params: &mut Params) -> String {
    let p = params.text(format!("%{}%", escape_like(word)));
    format!("{a}.search_text LIKE {p} ESCAPE '\\'")
}

/// A candidate listing, and whether it contains the words checked with `LIKE`.
#[derive(sqlx::FromRow)]
struct Checked {
    #[sqlx(flatten)]
    row: ListingRow,
    matches: i64,
}

/// Up to `want` rows from `source` in the filter's order, each checked with `LIKE` for the
/// `verify` words. Without such words the candidates are the rows. Otherwise the candidates come
/// in batches, each statement telling which of them match, and the next batch continues after
/// the last candidate, until a page is full.
async fn page(
    conn: &mut AnyConnection,
    filter: &ListingFilter,
    source: Source,
    probes: &[Probe],
    verify: &[String],
) -> Result<Vec<ListingRow>, sqlx::Error> {
    let postgres = conn.backend_name() == "PostgreSQL";
    let want = filter.limit + 1;
    let select = |k: &str, check: &str| {
        format!(
            "WITH k AS MATERIALIZED ({k}) {} WHERE l.id = k.id {}",
            SELECT_LISTING.replace(
                " FROM listings l",
                &format!("{check} FROM k CROSS JOIN listings l")
            ),
            order_by(filter.sort, "l")
        )
    };
    if verify.is_empty() {
        let mut params = Params::default();
        let k = candidates(filter, source, probes, None, want, postgres, &mut params);
        return fetch_all(conn, select(&k, ""), params).await;
    }
    let mut rows: Vec<ListingRow> = Vec::new();
    let mut after: Option<(i64, String)> = None;
    // Most candidates of a bigram are matches (a word's bigrams rarely occur apart), so the first
    // batch is a page; later ones grow.
    let mut batch = want;
    loop {
        let mut params = Params::default();
        let k = candidates(
            filter,
            source,
            probes,
            after.as_ref(),
            batch,
            postgres,
            &mut params,
        );
        let likes: Vec<String> = verify.iter().map(|w| like(w, "l", &mut params)).collect();
        let check = format!(
            ", CAST(CASE WHEN {} THEN 1 ELSE 0 END AS BIGINT) AS matches",
            likes.join(" AND ")
        );
        let found: Vec<Checked> = fetch_all(conn, select(&k, &check), params).await?;
        let full = found.len() as i64 == batch;
        after = found
            .last()
            .map(|c| (sort_value(filter.sort, &c.row), c.row.id.clone()));
        rows.extend(found.into_iter().filter(|c| c.matches == 1).map(|c| c.row));
        if rows.len() as i64 >= want || !full {
            break;
        }
        batch = (batch * 4).min(MAX_BATCH);
    }
    rows.truncate(usize::try_from(want).unwrap_or(usize::MAX));
    Ok(rows)
}

/// The most candidates checked with `LIKE` in one statement.
const MAX_BATCH: i64 = 1_000;

/// The row's value of the sort key.
fn sort_value(sort: Sort, row: &ListingRow) -> i64 {
    match sort {
        Sort::Recommended => row.score_micros,
        Sort::New => row.created_at_ms,
        Sort::PriceAsc | Sort::PriceDesc => row.price_yen,
    }
}

/// `SELECT id` of up to `limit` candidates from `source` that pass the filter, in the filter's
/// order, from the filter's position or, within a page, after the candidate `after`.
fn candidates(
    filter: &ListingFilter,
    source: Source,
    probes: &[Probe],
    after: Option<&(i64, String)>,
    limit: i64,
    postgres: bool,
    params: &mut Params,
) -> String {
    let (key, desc) = sort_key(filter.sort);
    let mut conds = Vec::new();
    let from = match source {
        // The walk covers the first `bound` listings of the range (from the filter's position),
        // keeping those that have every probe bigram.
        Source::Walk { bound } if postgres => {
            // PostgreSQL arm: the range as a subquery with LIMIT. PostgreSQL then knows how long
            // the walk is (a bound it cannot estimate, it takes for a third of the table and
            // may plan a parallel scan whose start alone costs more than the walk) and chooses
            // between probing each listing and hashing the posting lists.
            let range = range_conditions(filter, "b", filter.after.as_ref(), params);
            let bound = params.int(bound);
            let rest = rest_conditions(filter, "l", params);
            // The columns the other conditions need (the index-only case has none).
            let mut columns = vec!["id", key];
            if !rest.is_empty() {
                let needed = ["price_yen", "rating_avg_milli", "seller_rank"];
                columns.extend(needed.into_iter().filter(|c| *c != key));
            }
            let columns: Vec<String> = columns.iter().map(|c| format!("b.{c}")).collect();
            let columns = columns.join(", ");
            conds.extend(rest);
            format!(
                "(SELECT {columns} FROM listings b WHERE {} {} LIMIT {bound}) l",
                range.join(" AND "),
                order_by(filter.sort, "b")
            )
        }
        Source::Walk { bound } => {
            // SQLite arm: the walk's index range ends at the sort key of its `bound`-th listing
            // (ties included), found by a scalar subquery that SQLite runs once.
            conds.extend(range_conditions(filter, "l", filter.after.as_ref(), params));
            conds.extend(rest_conditions(filter, "l", params));
            let range = range_conditions(filter, "b", filter.after.as_ref(), params);
            let offset = params.int(bound.max(1) - 1);
            let (cmp, open) = if desc {
                (">=", i64::MIN)
            } else {
                ("<=", i64::MAX)
            };
            let open = params.int(open);
            conds.push(format!(
                "l.{key} {cmp} COALESCE((SELECT b.{key} FROM listings b WHERE {} {} \
                 LIMIT 1 OFFSET {offset}), {open})",
                range.join(" AND "),
                order_by(filter.sort, "b")
            ));
            "listings l".to_string()
        }
        Source::Postings => {
            conds.extend(range_conditions(filter, "l", filter.after.as_ref(), params));
            conds.extend(rest_conditions(filter, "l", params));
            // The intersection, rarest list first (SQLite loops over it and probes the others;
            // PostgreSQL merges them).
            let mut joins = Vec::new();
            let mut on = Vec::new();
            for (i, p) in probes.iter().enumerate() {
                joins.push(format!("listing_search_grams g{i}"));
                let g = params.text(&p.gram);
                on.push(format!("g{i}.gram = {g}"));
                if i > 0 {
                    on.push(format!("g{i}.listing_id = g0.listing_id"));
                }
            }
            let postings = format!(
                "SELECT g0.listing_id AS id FROM {} WHERE {}",
                joins.join(" CROSS JOIN "),
                on.join(" AND ")
            );
            if postgres {
                // PostgreSQL arm: it cannot estimate a posting list's length and, from a join,
                // may hash the whole table instead of looking the candidates up one by one. An
                // array makes it look each candidate up in listings_search_keys (index only).
                conds.insert(0, format!("l.id = ANY(ARRAY({postings}))"));
                "listings l".to_string()
            } else {
                // SQLite arm: CROSS JOIN fixes the loop order (candidates first), and each is
                // looked up in listings_search_keys, which covers every column used here
                // (without statistics SQLite would prefer the unique index on id, then read the
                // row).
                conds.insert(0, "l.id = c.id".to_string());
                format!("({postings}) c CROSS JOIN listings l INDEXED BY listings_search_keys")
            }
        }
    };
    if let Source::Walk { .. } = source {
        for (i, p) in probes.iter().enumerate() {
            let g = params.text(&p.gram);
            conds.push(format!(
                "EXISTS (SELECT 1 FROM listing_search_grams g{i} \
                 WHERE g{i}.gram = {g} AND g{i}.listing_id = l.id)"
            ));
        }
    }
    if let Some(position) = after {
        conds.push(after_condition(filter.sort, "l", position, params));
    }
    let limit = params.int(limit);
    format!(
        "SELECT l.id FROM {from} WHERE {} {} LIMIT {limit}",
        conds.join(" AND "),
        order_by(filter.sort, "l")
    )
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Backend, DatabaseConfig};
    use crate::db::Db;
    use crate::listings::model::{CATEGORIES, fold_for_search};

    #[test]
    fn like_wildcards_in_search_words_are_escaped() {
        assert_eq!(super::escape_like(r"100%_a\b"), r"100\%\_a\\b");
    }

    #[test]
    fn search_words_are_folded_deduplicated_and_words_inside_others_dropped() {
        assert_eq!(
            search_words("ロゴ　ﾛｺﾞ ロゴマーク 制作"),
            ["ろごまーく", "制作"]
        );
        assert_eq!(search_words("a A b"), ["a", "b"]);
        assert_eq!(search_words("ご ろご"), ["ろご"]);
        assert!(search_words("   ").is_empty());
    }

    fn probes(counts: &[i64]) -> Vec<Probe> {
        counts
            .iter()
            .enumerate()
            .map(|(i, &n)| Probe {
                gram: format!("g{i}"),
                listings: n,
            })
            .collect()
    }

    #[test]
    fn common_words_walk_and_rare_words_or_combinations_start_from_postings() {
        // ロゴ at 100k: 2,803 listings. A 21-row page is ~750 steps of the walk.
        assert_eq!(
            choose_source(&probes(&[2_803]), 100_000, 21),
            Source::Walk { bound: 1_499 }
        );
        // A word in 500 listings: the postings are cheaper than a 4,200-step walk.
        assert_eq!(
            choose_source(&probes(&[500]), 100_000, 21),
            Source::Postings
        );
        // Two common words, a rare combination (ロゴ 霊視).
        assert_eq!(
            choose_source(&probes(&[1_839, 2_803]), 100_000, 21),
            Source::Postings
        );
        // A bigram in no listing: the postings answer at once.
        assert_eq!(
            choose_source(&probes(&[0, 90_000]), 100_000, 21),
            Source::Postings
        );
        // A word in almost every listing: a short walk.
        assert_eq!(
            choose_source(&probes(&[90_000]), 100_000, 21),
            Source::Walk { bound: 47 }
        );
        // Near the break-even (√(21 · 100,000) ≈ 1,450) the walk's bound is the postings' cost.
        assert_eq!(
            choose_source(&probes(&[1_600]), 100_000, 21),
            Source::Walk { bound: 1_600 }
        );
    }

    // ------------------------------------------------------------------------------------------
    // Every path against plain substring semantics, on SQLite and (with ICHIBA_TEST_POSTGRES_URL)
    // PostgreSQL.
    // ------------------------------------------------------------------------------------------

    /// A database for the test; drops the PostgreSQL one at the end.
    struct TestDb {
        db: Db,
        _dir: tempfile::TempDir,
        postgres: Option<(String, String)>,
    }

    impl TestDb {
        async fn drop_postgres(self) {
            self.db.close().await;
            if let Some((admin, name)) = self.postgres {
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(&admin).await.expect("admin");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut c)
                .await
                .expect("drop database");
            }
        }
    }

    async fn test_databases(migrate: bool) -> Vec<TestDb> {
        use sqlx::Connection;
        let dir = tempfile::tempdir().expect("temp dir");
        let sqlite = DatabaseConfig {
            url: format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("t.sqlite").display()
            ),
            backend: Backend::Sqlite,
        };
        let mut out = vec![TestDb {
            db: Db::connect(&sqlite, 2).await.expect("sqlite"),
            _dir: dir,
            postgres: None,
        }];
        if let Ok(admin) = std::env::var("ICHIBA_TEST_POSTGRES_URL")
            && !admin.is_empty()
        {
            let name = format!("ichiba_store_test_{}", new_id());
            let mut c = sqlx::PgConnection::connect(&admin).await.expect("admin");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut c)
                .await
                .expect("create database");
            let (base, query) = admin.split_once('?').unwrap_or((admin.as_str(), ""));
            let base = &base[..base.rfind('/').expect("database in url")];
            let url = if query.is_empty() {
                format!("{base}/{name}")
            } else {
                format!("{base}/{name}?{query}")
            };
            let config = DatabaseConfig {
                url,
                backend: Backend::Postgres,
            };
            out.push(TestDb {
                db: Db::connect(&config, 2).await.expect("postgres"),
                _dir: tempfile::tempdir().expect("temp dir"),
                postgres: Some((admin.clone(), name)),
            });
        }
        if migrate {
            for t in &out {
                t.db.migrate().await.expect("migrate");
            }
        }
        out
    }

    /// Fragments of the generated texts: words that are common alone but rare together (ロゴ is
    /// in the even listings, 翻訳 in the odd ones, both only in two), LIKE wildcards, a word whose
    /// bigrams all occur without the word (ろごま: ろご, ごま), half-width katakana and ASCII
    /// case that fold.
    const FRAGMENTS: &[&str] = &[
        "デザイン",
        "占い",
        "ロゴマーク",
        "ﾛｺﾞ入り",
        "Logo作成",
        "100%保証",
        "a_b記法",
        "axb形式",
        r"c\d対応",
        "ゴマ油",
        "家系図",
        "制作",
        "の",
        "a",
        "50% OFF",
        "LIKE_句",
    ];

    fn generated_text(i: usize) -> (String, String) {
        let mut seed = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut parts: Vec<&str> = Vec::new();
        if i.is_multiple_of(2) {
            parts.push("ロゴ");
        } else {
            parts.push("翻訳");
        }
        if i == 7 || i == 30 {
            parts.push("ロゴと翻訳");
        }
        for _ in 0..next(4) + 1 {
            parts.push(FRAGMENTS[next(FRAGMENTS.len())]);
        }
        let title = format!("【{}】{}します", i, parts[0]);
        let description = parts.join(if i.is_multiple_of(3) { " " } else { "を" });
        (title, description)
    }

    struct Listed {
        id: String,
        seller_id: String,
        status: String,
        category: String,
        price_yen: i64,
        rating_avg_milli: Option<i64>,
        seller_rank: String,
        score_micros: i64,
        created_at_ms: i64,
        search_text: String,
    }

    fn key_of(sort: Sort, l: &Listed) -> i64 {
        match sort {
            Sort::Recommended => l.score_micros,
            Sort::New => l.created_at_ms,
            Sort::PriceAsc | Sort::PriceDesc => l.price_yen,
        }
    }

    /// The whole result of the filter (cursor ignored) by plain substring semantics.
    fn expected(all: &[Listed], filter: &ListingFilter) -> Vec<String> {
        let words: Vec<String> = filter
            .q
            .as_deref()
            .map(|q| {
                fold_for_search(q)
                    .split_whitespace()
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let mut hits: Vec<&Listed> = all
            .iter()
            .filter(|l| match &filter.seller_id {
                Some(s) => &l.seller_id == s && l.status != "deleted",
                None => l.status == "active",
            })
            .filter(|l| filter.category.as_ref().is_none_or(|c| &l.category == c))
            .filter(|l| filter.min_price_yen.is_none_or(|m| l.price_yen >= m))
            .filter(|l| filter.max_price_yen.is_none_or(|m| l.price_yen <= m))
            .filter(|l| {
                filter
                    .min_rating_milli
                    .is_none_or(|m| l.rating_avg_milli.is_some_and(|r| r >= m))
            })
            .filter(|l| {
                filter
                    .seller_ranks
                    .as_ref()
                    .is_none_or(|r| r.contains(&l.seller_rank.as_str()))
            })
            .filter(|l| words.iter().all(|w| l.search_text.contains(w.as_str())))
            .collect();
        let (_, desc) = sort_key(filter.sort);
        hits.sort_by(|a, b| {
            let o = (key_of(filter.sort, a), &a.id).cmp(&(key_of(filter.sort, b), &b.id));
            if desc { o.reverse() } else { o }
        });
        hits.into_iter().map(|l| l.id.clone()).collect()
    }

    #[derive(Debug, Clone, Copy)]
    enum Way {
        /// What `list_listings` chooses.
        Planned,
        /// The walk without a bound and without the fallback.
        Walk,
        /// A walk of 2 listings, then the fallback.
        ShortWalk,
        /// The posting lists alone.
        Postings,
    }

    /// Every page of the filter, following the cursor, one way.
    async fn all_pages(db: &Db, filter: &ListingFilter, way: Way) -> Vec<String> {
        let mut conn = db.pool().acquire().await.expect("conn");
        let mut filter = filter.clone();
        let mut seen = Vec::new();
        loop {
            let rows = match (way, plan(&mut conn, &filter).await.expect("plan")) {
                (Way::Planned, _) => list_listings(&mut conn, &filter).await,
                (_, None) => scan(&mut conn, &filter).await,
                (Way::Walk, Some(p)) => {
                    let source = Source::Walk {
                        bound: 1_000_000_000,
                    };
                    page(&mut conn, &filter, source, &p.probes, &p.verify).await
                }
                (Way::ShortWalk, Some(p)) => {
                    let plan = Plan {
                        source: Source::Walk { bound: 2 },
                        ..p
                    };
                    run(&mut conn, &filter, &plan).await
                }
                (Way::Postings, Some(p)) => {
                    page(&mut conn, &filter, Source::Postings, &p.probes, &p.verify).await
                }
            }
            .expect("list");
            let more = rows.len() as i64 > filter.limit;
            let rows = &rows[..rows.len().min(filter.limit as usize)];
            seen.extend(rows.iter().map(|r| r.id.clone()));
            match rows.last() {
                Some(last) if more => {
                    let key = match filter.sort {
                        Sort::Recommended => last.score_micros,
                        Sort::New => last.created_at_ms,
                        Sort::PriceAsc | Sort::PriceDesc => last.price_yen,
                    };
                    filter.after = Some((key, last.id.clone()));
                }
                _ => break,
            }
            assert!(seen.len() <= 200, "{way:?} does not end: {filter:?}");
        }
        seen
    }

    #[tokio::test]
    async fn every_search_path_returns_exactly_the_plain_substring_result() {
        for t in test_databases(true).await {
            check_search_paths(&t.db).await;
            t.drop_postgres().await;
        }
    }

    async fn check_search_paths(db: &Db) {
        let now = 1_750_000_000_000;
        let sellers = ["s1", "s2"];
        let mut tx = db.begin().await.expect("begin");
        for s in sellers {
            sqlx::query(
                "INSERT INTO users (id, email, password_hash, display_name, created_at_ms, \
                 updated_at_ms) VALUES ($1, $2, 'x', $1, 0, 0)",
            )
            .bind(s)
            .bind(format!("{s}@example.jp"))
            .execute(&mut *tx)
            .await
            .expect("user");
        }
        let mut ids = Vec::new();
        for i in 0..60_usize {
            let (title, description) = generated_text(i);
            let draft = ListingDraft {
                title,
                description,
                category: CATEGORIES[i % 3],
                price_yen: 1000 + (i as i64 % 4) * 500,
                delivery_days: 3,
                options: vec![],
            };
            let id = format!("listing{:02}", (i * 37) % 60);
            insert_listing(&mut tx, &id, sellers[i % 2], &draft, now + (i as i64 % 7))
                .await
                .expect("insert");
            // Ties in every sort key, so the id decides between equals.
            sqlx::query(
                "UPDATE listings SET score_micros = $2, rating_avg_milli = $3, \
                 seller_rank = $4 WHERE id = $1",
            )
            .bind(&id)
            .bind((i as i64 % 5) * 1000)
            .bind((i % 4 != 0).then_some(3000 + (i as i64 % 3) * 1000))
            .bind(["none", "bronze", "gold"][i % 3])
            .execute(&mut *tx)
            .await
            .expect("scores");
            ids.push(id);
        }
        // Texts that change: the bigrams and their counts follow.
        for (n, id) in ids.iter().enumerate().filter(|(n, _)| n % 9 == 4) {
            let draft = ListingDraft {
                title: format!("【{n}】書き換えました"),
                description: "翻訳とゴマ油の相談".to_string(),
                category: CATEGORIES[n % 3],
                price_yen: 1500,
                delivery_days: 3,
                options: vec![],
            };
            assert!(
                update_listing(&mut tx, id, &draft, now)
                    .await
                    .expect("update")
            );
        }
        for (n, id) in ids.iter().enumerate().filter(|(n, _)| n % 11 == 3) {
            let to = if n % 2 == 0 {
                ListingStatus::Paused
            } else {
                ListingStatus::Deleted
            };
            set_status(&mut tx, id, ListingStatus::Active, to, now)
                .await
                .expect("status");
        }
        tx.commit().await.expect("commit");

        assert_counts_in_step(db).await;
        let mut conn = db.pool().acquire().await.expect("conn");
        let all: Vec<Listed> = fetch_all::<(
            String,
            String,
            String,
            String,
            i64,
            Option<i64>,
            String,
            i64,
            i64,
            String,
        )>(
            &mut conn,
            "SELECT id, seller_id, status, category, price_yen, rating_avg_milli, seller_rank, \
             score_micros, created_at_ms, search_text FROM listings"
                .into(),
            Params::default(),
        )
        .await
        .expect("all")
        .into_iter()
        .map(|r| Listed {
            id: r.0,
            seller_id: r.1,
            status: r.2,
            category: r.3,
            price_yen: r.4,
            rating_avg_milli: r.5,
            seller_rank: r.6,
            score_micros: r.7,
            created_at_ms: r.8,
            search_text: r.9,
        })
        .collect();
        drop(conn);

        let queries = [
            "ロゴ",
            "翻訳",
            "ロゴ 翻訳",
            "翻訳　ﾛｺﾞ",
            "ロゴと翻訳",
            "占",
            "占 ロゴ",
            "a",
            "A 翻訳",
            "a_b",
            "100%",
            "%",
            "_",
            r"c\d",
            "ロゴマ",
            "ロゴマーク ロゴ",
            "LOGO",
            "ﾛｺﾞ入り",
            "家系図 ロゴ",
            "ゴマ油 翻訳",
            "書き換え",
            "存在しない",
            "ゴ",
            "50% off",
            // More words than probes: the words left over are checked with LIKE.
            "書き 換え 翻訳 ゴマ 相談 油の",
            "換え 翻訳 ゴマ 相談 油の 書き ました",
            "書き 換え 相談 油の ロゴ",
            "デザイン 占い 制作 ゴマ油 家系図 ロゴ 翻訳 100% a_b",
        ];
        let mut checked = 0;
        for q in queries {
            for (sort, limit) in [
                (Sort::Recommended, 2),
                (Sort::Recommended, 20),
                (Sort::New, 3),
                (Sort::PriceAsc, 20),
                (Sort::PriceDesc, 4),
            ] {
                let base = ListingFilter {
                    q: Some(q.to_string()),
                    sort,
                    limit,
                    ..ListingFilter::default()
                };
                let filters = [
                    base.clone(),
                    ListingFilter {
                        category: Some("design".into()),
                        min_rating_milli: Some(4000),
                        ..base.clone()
                    },
                    ListingFilter {
                        min_price_yen: Some(1500),
                        max_price_yen: Some(2000),
                        seller_ranks: Some(vec!["bronze", "gold"]),
                        ..base.clone()
                    },
                    ListingFilter {
                        seller_id: Some("s1".into()),
                        ..base.clone()
                    },
                ];
                for filter in filters {
                    let want = expected(&all, &filter);
                    for way in [Way::Planned, Way::Walk, Way::ShortWalk, Way::Postings] {
                        let got = all_pages(db, &filter, way).await;
                        assert_eq!(got, want, "{way:?} q={q:?} {filter:?}");
                        checked += usize::from(!want.is_empty());
                    }
                }
            }
        }
        // The corpus gives most queries hits.
        assert!(checked > 300, "{checked}");
        // The anti-correlated pair: each word is common, the two together are not.
        let hits = |q: &str| {
            let filter = ListingFilter {
                q: Some(q.into()),
                limit: 20,
                ..ListingFilter::default()
            };
            expected(&all, &filter).len()
        };
        let (logo, translation, both) = (hits("ロゴ"), hits("翻訳"), hits("ロゴ 翻訳"));
        assert!(
            both > 0 && both * 3 <= logo.min(translation),
            "{logo} {translation} {both}"
        );
    }

    /// Every gram count equals its posting list's length, and the empty gram counts the listings.
    async fn assert_counts_in_step(db: &Db) {
        let mut conn = db.pool().acquire().await.expect("conn");
        let counted: BTreeMap<String, i64> = fetch_all::<(String, i64)>(
            &mut conn,
            "SELECT gram, listings FROM listing_search_gram_counts WHERE listings <> 0".into(),
            Params::default(),
        )
        .await
        .expect("counts")
        .into_iter()
        .collect();
        let mut actual: BTreeMap<String, i64> = fetch_all::<(String, i64)>(
            &mut conn,
            "SELECT gram, COUNT(*) FROM listing_search_grams GROUP BY gram".into(),
            Params::default(),
        )
        .await
        .expect("postings")
        .into_iter()
        .collect();
        let listings: Vec<(i64,)> = fetch_all(
            &mut conn,
            "SELECT COUNT(*) FROM listings".into(),
            Params::default(),
        )
        .await
        .expect("listings");
        actual.insert(String::new(), listings[0].0);
        assert_eq!(counted, actual);
    }

    #[tokio::test]
    async fn the_migration_counts_the_bigrams_of_existing_listings() {
        for t in test_databases(false).await {
            let migrator = match t.db.backend() {
                Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
                Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
            };
            // A database from before the bigram index (0006) and its counts (0007).
            migrator.run_to(5, t.db.pool()).await.expect("migrate to 5");
            sqlx::query(
                "INSERT INTO users (id, email, password_hash, display_name, created_at_ms, \
                 updated_at_ms) VALUES ('u', 'u@example.jp', 'x', 'u', 0, 0)",
            )
            .execute(t.db.pool())
            .await
            .expect("user");
            let texts = [
                ("a", "ロゴデザインを作成します", "ロゴとロゴマーク"),
                ("b", "翻訳します", "英語 翻訳 ロゴ"),
                ("c", "占い", "x"),
            ];
            for (id, title, description) in texts {
                sqlx::query(
                    "INSERT INTO listings (id, seller_id, title, description, category, \
                     price_yen, delivery_days, status, created_at_ms, updated_at_ms, \
                     search_text) VALUES ($1, 'u', $2, $3, 'design', 1000, 3, 'active', 0, 0, $4)",
                )
                .bind(id)
                .bind(title)
                .bind(description)
                .bind(fold_for_search(&format!("{title}\n{description}")))
                .execute(t.db.pool())
                .await
                .expect("listing");
            }
            migrator.run_to(6, t.db.pool()).await.expect("migrate to 6");
            t.db.migrate().await.expect("migrate");
            assert_counts_in_step(&t.db).await;

            // New writes keep them in step.
            let mut tx = t.db.begin().await.expect("begin");
            let draft = ListingDraft {
                title: "ロゴ制作".into(),
                description: "翻訳も".into(),
                category: CATEGORIES[0],
                price_yen: 1000,
                delivery_days: 3,
                options: vec![],
            };
            insert_listing(&mut tx, "d", "u", &draft, 1)
                .await
                .expect("insert");
            let draft = ListingDraft {
                title: "占いをします".into(),
                ..draft
            };
            assert!(
                update_listing(&mut tx, "a", &draft, 2)
                    .await
                    .expect("update")
            );
            tx.commit().await.expect("commit");
            assert_counts_in_step(&t.db).await;

            let mut conn = t.db.pool().acquire().await.expect("conn");
            for (q, want) in [
                ("ロゴ", vec!["d", "b"]),
                ("翻訳", vec!["d", "b", "a"]),
                ("占い", vec!["c", "a"]),
                ("ロゴマーク", vec![]),
            ] {
                let filter = ListingFilter {
                    q: Some(q.into()),
                    sort: Sort::New,
                    limit: 20,
                    ..ListingFilter::default()
                };
                let mut got: Vec<String> = list_listings(&mut conn, &filter)
                    .await
                    .expect("list")
                    .into_iter()
                    .map(|r| r.id)
                    .collect();
                got.sort();
                let mut want: Vec<String> = want.into_iter().map(str::to_string).collect();
                want.sort();
                assert_eq!(got, want, "{q}");
            }
            drop(conn);
            t.drop_postgres().await;
        }
    }
}

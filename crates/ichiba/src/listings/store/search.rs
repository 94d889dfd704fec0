//! The list query of listings: the filter, the statements assembled for it (conditions, sort,
//! keyset pagination) and the ways a search runs: a plain scan, a walk of the sort order or the
//! posting lists of the bigram index, as the planner (`store/plan.rs`) chose.

use sqlx::any::AnyArguments;
use sqlx::query::QueryAs;
use sqlx::{Any, AnyConnection};

use super::plan::{Plan, Probe, Source, plan, search_words};
use super::{ListingRow, SELECT_LISTING};
use crate::listings::model::Sort;

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

pub(super) enum Param {
    Text(String),
    Int(i64),
}

/// The parameters of a statement being assembled.
#[derive(Default)]
pub(super) struct Params(Vec<Param>);

impl Params {
    /// Adds a parameter and returns its placeholder.
    fn push(&mut self, p: Param) -> String {
        self.0.push(p);
        format!("${}", self.0.len())
    }

    pub(super) fn text(&mut self, s: impl Into<String>) -> String {
        self.push(Param::Text(s.into()))
    }

    pub(super) fn int(&mut self, i: i64) -> String {
        self.push(Param::Int(i))
    }
}

/// Runs an assembled statement.
pub(super) async fn fetch_all<T>(
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
    list_listings_via(conn, filter, SearchPath::Planned).await
}

/// The way a search with words of two or more characters finds its candidates.
/// [`list_listings`] lets the planner choose from the bigram counts; the others force one way, so
/// that checks and benchmarks can compare them. Every way returns the same rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchPath {
    /// What the planner chooses.
    Planned,
    /// Walk the whole sort order, keeping the listings that have every probe bigram.
    Walk,
    /// Walk at most this many listings of the sort order; when that gives no full page, start
    /// over from the posting lists.
    BoundedWalk(i64),
    /// Start from the intersection of the probes' posting lists.
    Postings,
}

/// [`list_listings`] the given way. A query without bigrams (no words, or one-character words
/// only) is a plain scan whatever the way.
pub async fn list_listings_via(
    conn: &mut AnyConnection,
    filter: &ListingFilter,
    path: SearchPath,
) -> Result<Vec<ListingRow>, sqlx::Error> {
    let Some(plan) = plan(conn, filter).await? else {
        return scan(conn, filter).await;
    };
    let source = match path {
        SearchPath::Planned => plan.source,
        SearchPath::Walk => {
            let bound = i64::MAX;
            return page(
                conn,
                filter,
                Source::Walk { bound },
                &plan.probes,
                &plan.verify,
            )
            .await;
        }
        SearchPath::BoundedWalk(bound) => Source::Walk { bound },
        SearchPath::Postings => Source::Postings,
    };
    run(conn, filter, &Plan { source, ..plan }).await
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

    #[test]
    fn like_wildcards_in_search_words_are_escaped() {
        assert_eq!(escape_like(r"100%_a\b"), r"100\%\_a\\b");
    }
}

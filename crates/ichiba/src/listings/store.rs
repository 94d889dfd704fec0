//! All SQL of listings and their paid options, including the public list query with filters,
//! sorts and keyset pagination.

use std::collections::BTreeSet;

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
    write_search_grams(conn, id, &BTreeSet::new(), &search_grams(&text)).await?;
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

/// Brings the listing's rows of `listing_search_grams` from the `old` set to the `new` one.
async fn write_search_grams(
    conn: &mut AnyConnection,
    listing_id: &str,
    old: &BTreeSet<String>,
    new: &BTreeSet<String>,
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
    write_search_grams(conn, id, &search_grams(&old), &search_grams(&text)).await?;
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

/// A page of listings for the filter. Returns up to `limit + 1` rows so the caller knows whether
/// another page follows.
pub async fn list_listings(
    conn: &mut AnyConnection,
    filter: &ListingFilter,
) -> Result<Vec<ListingRow>, sqlx::Error> {
    let mut conditions: Vec<String> = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    let mut with = String::new();
    let mut from_candidates = false;
    let push = |params: &mut Vec<Param>, p: Param| {
        params.push(p);
        format!("${}", params.len())
    };
    match &filter.seller_id {
        Some(seller) => {
            let p = push(&mut params, Param::Text(seller.clone()));
            conditions.push(format!("l.seller_id = {p} AND l.status <> 'deleted'"));
        }
        None => conditions.push("l.status = 'active'".to_string()),
    }
    if let Some(q) = &filter.q {
        let folded = super::model::fold_for_search(q);
        let words: Vec<&str> = folded.split_whitespace().collect();
        let text_column = match rarest_gram(conn, &words).await? {
            // Some bigram of the query is in no listing: nothing can match.
            Some((_, 0)) => return Ok(vec![]),
            // A rare bigram: start from its listings instead of walking the sort index. The
            // candidates (with their text) are a materialized CTE and the LIKE filters apply to
            // its rows, so neither planner can evaluate LIKE over the whole table (PostgreSQL
            // otherwise prices LIKE as nearly free and prefers a filtered sequential scan).
            Some((gram, n)) if n <= GRAM_POSTINGS_LIMIT => {
                let p = push(&mut params, Param::Text(gram));
                with = format!(
                    "WITH candidates AS MATERIALIZED (SELECT g.listing_id AS id, s.search_text \
                     FROM listing_search_grams g JOIN listings s ON s.id = g.listing_id \
                     WHERE g.gram = {p}) "
                );
                from_candidates = true;
                "c.search_text"
            }
            // Only common bigrams (or one-character words): matches are frequent, so walking the
            // sort index and filtering finds a page quickly.
            Some(_) | None => "l.search_text",
        };
        for word in words {
            let pattern = format!("%{}%", escape_like(word));
            let p = push(&mut params, Param::Text(pattern));
            conditions.push(format!("{text_column} LIKE {p} ESCAPE '\\'"));
        }
    }
    if let Some(c) = &filter.category {
        let p = push(&mut params, Param::Text(c.clone()));
        conditions.push(format!("l.category = {p}"));
    }
    if let Some(min) = filter.min_price_yen {
        let p = push(&mut params, Param::Int(min));
        conditions.push(format!("l.price_yen >= {p}"));
    }
    if let Some(max) = filter.max_price_yen {
        let p = push(&mut params, Param::Int(max));
        conditions.push(format!("l.price_yen <= {p}"));
    }
    if let Some(min) = filter.min_rating_milli {
        let p = push(&mut params, Param::Int(min));
        conditions.push(format!("l.rating_avg_milli >= {p}"));
    }
    if let Some(ranks) = &filter.seller_ranks {
        let list: Vec<String> = ranks
            .iter()
            .map(|r| push(&mut params, Param::Text((*r).to_string())))
            .collect();
        conditions.push(format!("l.seller_rank IN ({})", list.join(", ")));
    }
    // Keyset pagination: the sort key plus the id as a tie-breaker, in the same direction.
    let (key, direction) = match filter.sort {
        Sort::Recommended => ("l.score_micros", "DESC"),
        Sort::New => ("l.created_at_ms", "DESC"),
        Sort::PriceAsc => ("l.price_yen", "ASC"),
        Sort::PriceDesc => ("l.price_yen", "DESC"),
    };
    if let Some((after_key, after_id)) = &filter.after {
        let k = push(&mut params, Param::Int(*after_key));
        let i = push(&mut params, Param::Text(after_id.clone()));
        let cmp = if direction == "DESC" { "<" } else { ">" };
        conditions.push(format!(
            "({key} {cmp} {k} OR ({key} = {k} AND l.id {cmp} {i}))"
        ));
    }
    if from_candidates {
        conditions.push("l.id = c.id".to_string());
    }
    let limit = push(&mut params, Param::Int(filter.limit + 1));
    let select = if from_candidates {
        SELECT_LISTING.replace(
            "FROM listings l",
            // CROSS JOIN makes SQLite loop over the candidates first (it would otherwise walk
            // the sort index); PostgreSQL plans it like an inner join.
            "FROM candidates c CROSS JOIN listings l",
        )
    } else {
        SELECT_LISTING.to_string()
    };
    let sql = format!(
        "{with}{select} WHERE {} ORDER BY {key} {direction}, l.id {direction} LIMIT {limit}",
        conditions.join(" AND ")
    );
    let mut q: QueryAs<'_, Any, ListingRow, AnyArguments> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for p in params {
        q = match p {
            Param::Text(s) => q.bind(s),
            Param::Int(i) => q.bind(i),
        };
    }
    q.fetch_all(conn).await
}

/// Above this many listings, a bigram is too common to be worth starting a search from.
const GRAM_POSTINGS_LIMIT: i64 = 5_000;

/// The bigram of the search words with the fewest listings, and that number (counted up to
/// `GRAM_POSTINGS_LIMIT + 1`, so a probe stays cheap however common the bigram); `None` when no
/// word has two characters.
async fn rarest_gram(
    conn: &mut AnyConnection,
    words: &[&str],
) -> Result<Option<(String, i64)>, sqlx::Error> {
    let grams: BTreeSet<String> = words.iter().flat_map(|w| search_grams(w)).collect();
    let mut best: Option<(String, i64)> = None;
    for gram in grams {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM listing_search_grams WHERE gram = $1 LIMIT $2) t",
        )
        .bind(&gram)
        .bind(GRAM_POSTINGS_LIMIT + 1)
        .fetch_one(&mut *conn)
        .await?;
        if best.as_ref().is_none_or(|(_, b)| n < *b) {
            best = Some((gram, n));
        }
        if n == 0 {
            break;
        }
    }
    Ok(best)
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
    #[test]
    fn like_wildcards_in_search_words_are_escaped() {
        assert_eq!(super::escape_like(r"100%_a\b"), r"100\%\_a\\b");
    }
}

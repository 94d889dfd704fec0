//! The bigram index of the catalogue search: each listing's folded search text, the distinct
//! pairs of adjacent characters in it (`listing_search_grams`) and how many listings have each
//! pair (`listing_search_gram_counts`), kept in step in the transaction that writes the text.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::AnyConnection;

use crate::db::params;
use crate::listings::model::{ListingDraft, fold_for_search};

/// The text a search looks in: the folded title and description.
pub(super) fn search_text(draft: &ListingDraft) -> String {
    fold_for_search(&format!("{}\n{}", draft.title, draft.description))
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
pub(super) async fn write_search_grams(
    conn: &mut AnyConnection,
    listing_id: &str,
    old: &BTreeSet<String>,
    new: &BTreeSet<String>,
    new_listing: bool,
) -> Result<(), sqlx::Error> {
    // Chunks of 200 pairs keep every statement far below both backends' parameter limits.
    let gone: Vec<&String> = old.difference(new).collect();
    for chunk in gone.chunks(200) {
        let sql = format!(
            "DELETE FROM listing_search_grams WHERE listing_id = $1 AND gram IN ({})",
            params::list(2, chunk.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(listing_id);
        for g in chunk {
            q = q.bind(g.as_str());
        }
        q.execute(&mut *conn).await?;
    }
    let added: Vec<&String> = new.difference(old).collect();
    for chunk in added.chunks(200) {
        let sql = format!(
            "INSERT INTO listing_search_grams (gram, listing_id) VALUES {} ON CONFLICT DO NOTHING",
            params::rows(2, chunk.len(), 1, "$1")
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
        let sql = format!(
            "INSERT INTO listing_search_gram_counts (gram, listings) VALUES {} \
             ON CONFLICT (gram) DO UPDATE \
             SET listings = listing_search_gram_counts.listings + excluded.listings",
            params::rows(1, chunk.len(), 2, "")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (gram, delta) in chunk {
            q = q.bind(*gram).bind(*delta);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

//! The search planner: which way a search with words finds its candidates. Each word's rarest
//! bigram (by `listing_search_gram_counts`) becomes a probe, and the estimated costs choose
//! between walking the sort order and intersecting the probes' posting lists.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::AnyConnection;

use super::grams::search_grams;
use super::search::{ListingFilter, Params, fetch_all};
use crate::listings::model::fold_for_search;

/// Which way a search finds its candidates, in the order of the filter's sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    /// Walk the sort order (an index) over at most this many listings that match the range
    /// conditions, keeping those that have every probe bigram.
    Walk { bound: i64 },
    /// Intersect the posting lists of the probe bigrams, then check and order those listings with
    /// `listings_search_keys`.
    Postings,
}

/// One word's part in a search: its rarest bigram and how many listings have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Probe {
    pub(super) gram: String,
    pub(super) listings: i64,
}

/// The search words: folded, without duplicates, and without the words that are part of another
/// word (a listing containing `ロゴマーク` contains `ロゴ`), which leaves the result unchanged.
pub(super) fn search_words(q: &str) -> Vec<String> {
    let folded = fold_for_search(q);
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
pub(super) struct Plan {
    /// The rarest bigram of each word of two or more characters, rarest first, without repeats.
    pub(super) probes: Vec<Probe>,
    /// The words the probes do not decide exactly (one character, three and more, or two beyond
    /// the probes): checked with `LIKE`.
    pub(super) verify: Vec<String>,
    /// Where the candidates come from.
    pub(super) source: Source,
}

/// The plan of a search, from the counts of its words' bigrams; `None` when no word has a
/// bigram.
pub(super) async fn plan(
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

//! `ichiba demo`: fills a database with a living demo market — sellers with realistic Japanese
//! listings across the categories, and buyers with known logins. Idempotent: users are keyed by
//! e-mail and listings by a fixed id, so a second run creates nothing.

use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;

use crate::accounts::{self, Password};
use crate::clock::Millis;
use crate::db::Db;
use crate::listings::model::{RawListing, RawOption, parse_listing};
use crate::listings::store as listing_store;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "ichiba-demo-2026";

const MARKET: &str = include_str!("market.json");

#[derive(Debug, Deserialize)]
struct Market {
    sellers: Vec<DemoSeller>,
    buyers: Vec<DemoBuyer>,
}

#[derive(Debug, Deserialize)]
struct DemoSeller {
    key: String,
    name: String,
    bio: String,
    listings: Vec<DemoListing>,
}

#[derive(Debug, Deserialize)]
struct DemoBuyer {
    key: String,
    name: String,
}

#[derive(Debug, Deserialize)]
struct DemoListing {
    title: String,
    category: String,
    price: i64,
    days: i64,
    description: String,
    options: Vec<DemoOption>,
}

impl DemoListing {
    fn to_raw(&self) -> RawListing {
        RawListing {
            title: Some(self.title.clone()),
            description: Some(self.description.clone()),
            category: Some(self.category.clone()),
            price_yen: Some(self.price),
            delivery_days: Some(self.days),
            options: Some(
                self.options
                    .iter()
                    .map(|o| RawOption {
                        title: Some(o.title.clone()),
                        price_yen: Some(o.price),
                        extra_days: Some(o.days),
                    })
                    .collect(),
            ),
        }
    }
}

#[derive(Debug, Deserialize)]
struct DemoOption {
    title: String,
    price: i64,
    days: i64,
}

/// What a run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedSummary {
    /// Users created by this run.
    pub created_users: usize,
    /// Listings created by this run.
    pub created_listings: usize,
    /// Items that were already there.
    pub existing: usize,
}

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The bundled data is broken (a bug, caught by the unit test).
    #[error("bundled demo data is invalid: {0}")]
    Data(String),
    /// Database or hashing failure.
    #[error(transparent)]
    Account(#[from] accounts::AccountError),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn market() -> Result<Market, DemoError> {
    serde_json::from_str(MARKET).map_err(|e| DemoError::Data(e.to_string()))
}

fn seller_email(key: &str) -> String {
    format!("{}@demo.ichiba.jp", key.replace('s', "seller"))
}

fn buyer_email(key: &str) -> String {
    format!("{}@demo.ichiba.jp", key.replace('b', "buyer"))
}

/// Creates whatever of the demo market is missing. `progress` draws a progress bar on stderr.
pub async fn seed(db: &Db, now: Millis, progress: bool) -> Result<SeedSummary, DemoError> {
    let market = market()?;
    let total = market.sellers.len()
        + market.buyers.len()
        + market
            .sellers
            .iter()
            .map(|s| s.listings.len())
            .sum::<usize>();
    let bar = if progress {
        ProgressBar::new(total as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{msg:12} [{bar:30}] {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("demo market");
    let mut summary = SeedSummary::default();
    let hash = accounts::hash_password(
        Password::parse(DEMO_PASSWORD).map_err(|e| DemoError::Data(e.message))?,
    )
    .await?;
    let mut listing_index: i64 = 0;
    for seller in &market.sellers {
        let id = ensure_user(
            db,
            &seller_email(&seller.key),
            &seller.name,
            &seller.bio,
            &hash,
            now,
            &mut summary,
        )
        .await?;
        bar.inc(1);
        for (i, l) in seller.listings.iter().enumerate() {
            listing_index += 1;
            let listing_id = format!("demo{}l{:02}", seller.key, i + 1);
            let draft = parse_listing(&l.to_raw())
                .map_err(|e| DemoError::Data(format!("{listing_id}: {:?}", e.as_slice())))?;
            let mut tx = db.begin().await?;
            if listing_store::listing_by_id(&mut tx, &listing_id)
                .await?
                .is_some()
            {
                summary.existing += 1;
            } else {
                // Spread creation times over the past weeks so 新着順 looks like a living market.
                let created = now - listing_index * 7 * 3_600_000;
                listing_store::insert_listing(&mut tx, &listing_id, &id, &draft, created).await?;
                summary.created_listings += 1;
            }
            tx.commit().await?;
            bar.inc(1);
        }
    }
    for buyer in &market.buyers {
        ensure_user(
            db,
            &buyer_email(&buyer.key),
            &buyer.name,
            "",
            &hash,
            now,
            &mut summary,
        )
        .await?;
        bar.inc(1);
    }
    // Scores and rating summaries for おすすめ順.
    let sellers: Vec<String> = {
        let mut conn = db.pool().acquire().await?;
        crate::reputation::store::sellers(&mut conn).await?
    };
    for s in &sellers {
        crate::reputation::refresh_seller(db, s, now).await?;
    }
    bar.finish_with_message("done");
    Ok(summary)
}

async fn ensure_user(
    db: &Db,
    email: &str,
    name: &str,
    bio: &str,
    hash: &str,
    now: Millis,
    summary: &mut SeedSummary,
) -> Result<String, DemoError> {
    let mut tx = db.begin().await?;
    let id = match accounts::store::user_by_email(&mut tx, email).await? {
        Some(user) => {
            summary.existing += 1;
            user.id
        }
        None => {
            let id = crate::db::new_id();
            accounts::store::insert_user(&mut tx, &id, email, hash, name, now).await?;
            accounts::store::update_profile(&mut tx, &id, name, bio, now).await?;
            // Every account starts with the standard 定型文, as a registration does.
            crate::templates::store::seed_standard(&mut tx, &id, now).await?;
            summary.created_users += 1;
            id
        }
    };
    tx.commit().await?;
    Ok(id)
}

/// Prints the demo logins.
pub fn print_logins() {
    let Ok(market) = market() else { return };
    println!("\nデモ用ログイン (password: {DEMO_PASSWORD})");
    for b in &market.buyers {
        println!("  購入者  {:<28} {}", buyer_email(&b.key), b.name);
    }
    if let Some(s) = market.sellers.first() {
        println!(
            "  出品者  {:<28} {}  (seller01〜seller{:02})",
            seller_email(&s.key),
            s.name,
            market.sellers.len()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_market_is_large_enough_and_every_listing_is_valid() {
        let m = market().unwrap();
        assert!(m.sellers.len() >= 12);
        let listings: Vec<_> = m.sellers.iter().flat_map(|s| &s.listings).collect();
        assert!(listings.len() >= 40);
        let categories: std::collections::BTreeSet<_> =
            listings.iter().map(|l| l.category.as_str()).collect();
        assert!(categories.len() >= 10, "{categories:?}");
        for l in listings {
            assert!(parse_listing(&l.to_raw()).is_ok(), "{}", l.title);
        }
        assert_eq!(seller_email("s01"), "seller01@demo.ichiba.jp");
        assert_eq!(buyer_email("b02"), "buyer02@demo.ichiba.jp");
    }
}

//! Runs a parsed command line: each subcommand builds its [`Config`], opens what it needs and
//! reports failures as one clear line (printed by `main`).

use anyhow::Context;

use crate::app::{self, AppState};
use crate::clock::{Clock, SystemClock};
use crate::config::{AdminCommand, Cli, Command, Config};
use crate::db::Db;
use crate::{accounts, demo};

/// Executes the command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let config = Config::from_serve(&args)?;
            let state = AppState::open(config).await?;
            if args.demo {
                let now = state.clock.now_ms();
                let summary = demo::seed(&state.db, now, false)
                    .await
                    .context("demo data")?;
                if summary.created_users > 0 || summary.created_listings > 0 {
                    demo::print_logins();
                }
            }
            app::serve(state, args.addr).await?;
        }
        Command::Migrate(storage) => {
            let config = Config::from_storage(&storage)?;
            let db = Db::connect(&config.database, 2).await?;
            db.migrate().await?;
            println!("migrations applied ({:?})", db.backend());
            db.close().await;
        }
        Command::Demo(storage) => {
            let config = Config::from_storage(&storage)?;
            let db = Db::connect(&config.database, 4).await?;
            db.migrate().await?;
            let summary = demo::seed(&db, SystemClock.now_ms(), true).await?;
            println!(
                "demo market ready: {} users and {} listings created ({} already there)",
                summary.created_users, summary.created_listings, summary.existing
            );
            demo::print_logins();
            db.close().await;
        }
        Command::Admin { storage, command } => {
            let config = Config::from_storage(&storage)?;
            let db = Db::connect(&config.database, 2).await?;
            db.migrate().await?;
            match command {
                AdminCommand::GrantOperator { email } => {
                    accounts::grant_operator(&db, SystemClock.now_ms(), &email)
                        .await
                        .map_err(|e| match e {
                            accounts::AccountError::NotFound => {
                                anyhow::anyhow!("no user with e-mail {email}")
                            }
                            other => anyhow::anyhow!(other),
                        })?;
                    println!("{email} is now an operator");
                }
                AdminCommand::Verify => {
                    let v = crate::ledger::verify(&db).await?;
                    println!(
                        "ledger: {} accounts, {} transfers, imbalance {} yen",
                        v.accounts, v.transfers, v.imbalance_yen
                    );
                    for p in &v.problems {
                        println!("  problem: {p}");
                    }
                    db.close().await;
                    if !v.ok {
                        anyhow::bail!("ledger verification failed ({} problems)", v.problems.len());
                    }
                    println!("ledger ok");
                    return Ok(());
                }
            }
            db.close().await;
        }
    }
    Ok(())
}

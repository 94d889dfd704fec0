//! Runs a parsed command line: each subcommand builds its [`Config`], opens what it needs and
//! reports failures as one clear line (printed by `main`).

use anyhow::Context;

use crate::app::{self, AppState};
use crate::clock::{Clock, SystemClock};
use crate::config::{
    AdminCommand, Cli, Command, Config, GuardCommand, PayoutsCommand, ZenginSettings,
};
use crate::db::Db;
use crate::{accounts, demo};

/// Executes the command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let config = Config::from_serve(&args)?;
            crate::payouts::zengin::Requester::from_settings(&config.zengin)?;
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
            app::serve(state, args.addr, args.limits()).await?;
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
        Command::Guard { command } => match command {
            GuardCommand::Scan => guard_scan()?,
            GuardCommand::Eval { file } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let examples = ::guard::parse_jsonl(&text)?;
                let detector = ::guard::Guard::new(::guard::Policy::default());
                let report = ::guard::evaluate(&detector, &examples);
                // A closed pipe (`| head`) is not an error worth a panic.
                let _ = std::io::Write::write_fmt(&mut std::io::stdout(), format_args!("{report}"));
            }
        },
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
                AdminCommand::Lift { email } => {
                    let normalized = email.trim().to_ascii_lowercase();
                    let mut conn = db.pool().acquire().await?;
                    let user = accounts::store::user_by_email(&mut conn, &normalized)
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("no user with e-mail {email}"))?;
                    drop(conn);
                    let hub = crate::events::Hub::new();
                    let n = crate::guard::lift(&db, &hub, None, &user.id, "", SystemClock.now_ms())
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!("lifted {n} sanction(s) of {email}");
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
        Command::Payouts {
            storage,
            zengin,
            command,
        } => {
            let mut config = Config::from_storage(&storage)?;
            config.zengin = ZenginSettings::from(&zengin);
            crate::payouts::zengin::Requester::from_settings(&config.zengin)?;
            let db = Db::connect(&config.database, 2).await?;
            db.migrate().await?;
            let result = run_payouts(&db, &config, command).await;
            db.close().await;
            result?;
        }
    }
    Ok(())
}

/// The error as the API would word it (Japanese message and code), for the terminal.
fn app_error(e: crate::error::AppError) -> anyhow::Error {
    let body = e.body();
    match e {
        crate::error::AppError::Internal(cause) => anyhow::anyhow!("internal error: {cause}"),
        _ => anyhow::anyhow!(
            "{} ({})",
            body["error"]["message"].as_str().unwrap_or(""),
            body["error"]["code"].as_str().unwrap_or("")
        ),
    }
}

/// `ichiba payouts export|settle`.
pub async fn run_payouts(db: &Db, config: &Config, command: PayoutsCommand) -> anyhow::Result<()> {
    use crate::payouts::batch;
    let now = SystemClock.now_ms();
    match command {
        PayoutsCommand::Export { pay_date, out } => {
            let pay_date = batch::parse_pay_date(&pay_date).map_err(app_error)?;
            // The batch is committed (payouts marked exported, file stored) before the file is
            // written, so a file on disk always matches exported payouts; if writing fails, the
            // stored file can be downloaded again. The rename keeps a half-written file from
            // ever carrying the final name.
            let b = batch::export(db, &config.zengin, pay_date, "cli", now)
                .await
                .map_err(app_error)?;
            let tmp = out.with_extension("partial");
            std::fs::write(&tmp, &b.file_bytes)
                .and_then(|()| std::fs::rename(&tmp, &out))
                .with_context(|| {
                    format!(
                        "writing {} (the batch {} is stored: download it again with GET /api/v1/admin/payouts/batches/{}/file)",
                        out.display(),
                        b.id,
                        b.id
                    )
                })?;
            println!(
                "batch {}: {} payouts, {} yen, pay date {} -> {}",
                b.id,
                b.payouts.len(),
                b.total_yen,
                b.pay_date,
                out.display()
            );
            for p in &b.payouts {
                println!(
                    "  {}  {:>10} yen  {} {}",
                    p.id, p.net_yen, p.bank_name, p.branch_name
                );
            }
        }
        PayoutsCommand::Settle {
            paid,
            failed,
            reason,
        } => {
            if paid.is_empty() && failed.is_empty() {
                anyhow::bail!("nothing to settle: give --paid ID… and/or --failed ID…");
            }
            let (report, _events) = batch::settle(db, &paid, &failed, reason.as_deref(), now)
                .await
                .map_err(app_error)?;
            println!(
                "paid {}, failed {}, unchanged {}",
                report.paid.len(),
                report.failed.len(),
                report.unchanged.len()
            );
        }
    }
    Ok(())
}

/// `ichiba guard scan`: JSON Lines in, one verdict line out per input line.
fn guard_scan() -> anyhow::Result<()> {
    use std::io::{BufRead, Write};
    #[derive(serde::Deserialize)]
    struct Input {
        id: serde_json::Value,
        text: String,
    }
    let detector = ::guard::Guard::new(::guard::Policy::default());
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (n, line) in stdin.lock().lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let input: Input = match serde_json::from_str(&line) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("ichiba guard scan: line {}: {e}", n + 1);
                continue;
            }
        };
        let v = detector.scan(&input.text);
        let findings: Vec<_> = v
            .findings
            .iter()
            .map(|f| serde_json::json!({"kind": f.kind, "start": f.start, "end": f.end, "excerpt": f.excerpt}))
            .collect();
        let verdict = if v.is_block() { "block" } else { "allow" };
        let line = serde_json::json!({"id": input.id, "verdict": verdict, "findings": findings});
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}

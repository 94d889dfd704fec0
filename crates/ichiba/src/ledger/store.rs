//! All SQL of the ledger: accounts created on first use, transfers applied once per key, balances
//! updated with a guard that refuses to take a non-negative account below zero, and the full
//! recomputation behind `admin verify`.

use sqlx::AnyConnection;

use super::model::{AccountRef, LedgerError, TransferPlan};
use crate::clock::Millis;
use crate::db::{new_id, params};

/// Failure of a ledger write.
#[derive(Debug, thiserror::Error)]
pub enum LedgerStoreError {
    /// A rule of the ledger.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Applies a transfer inside the caller's database transaction. A key applied before is skipped
/// (returns `false`). Errors leave the caller to roll back.
///
/// Statements: the transfer row, one per account (a credit, or any change of an account that may
/// go negative, creates the account or adds to it in one upsert; a debit of an account that may
/// not go negative is an update guarded by its balance), and all entries in one insert. The
/// platform's and the outside world's accounts are stored in shards (see
/// [`AccountRef::storage_id`]), so concurrent deals do not queue on one row.
pub async fn apply(
    conn: &mut AnyConnection,
    plan: &TransferPlan,
    now: Millis,
) -> Result<bool, LedgerStoreError> {
    plan.check_balanced()?;
    let transfer_id = new_id();
    let inserted = sqlx::query(
        "INSERT INTO ledger_transfers (id, idempotency_key, code, order_id, at_ms, memo) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(&transfer_id)
    .bind(&plan.key)
    .bind(plan.code.as_str())
    .bind(plan.order_id.clone())
    .bind(now)
    .bind(&plan.memo)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(false);
    }
    let shard_key = plan.order_id.as_deref().unwrap_or(&plan.key);
    // (account, the row it is stored in, amount), zero amounts dropped.
    let entries: Vec<(&AccountRef, String, i64)> = plan
        .entries
        .iter()
        .filter(|(_, a)| *a != 0)
        .map(|(account, amount)| (account, account.storage_id(shard_key), *amount))
        .collect();
    for (account, id, amount) in &entries {
        let changed = if *amount < 0 && !account.may_go_negative() {
            // The guard in the WHERE clause is the code-side check; the table's CHECK
            // constraint is the database-side one. A missing account has nothing to take.
            sqlx::query(
                "UPDATE ledger_accounts SET balance_yen = balance_yen + $2 \
                 WHERE id = $1 AND balance_yen + $2 >= 0",
            )
            .bind(id)
            .bind(*amount)
            .execute(&mut *conn)
            .await?
        } else {
            sqlx::query(
                "INSERT INTO ledger_accounts \
                 (id, kind, owner_id, may_go_negative, balance_yen, created_at_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (id) DO UPDATE \
                 SET balance_yen = ledger_accounts.balance_yen + excluded.balance_yen",
            )
            .bind(id)
            .bind(account.kind())
            .bind(account.owner().map(str::to_string))
            .bind(i16::from(account.may_go_negative()))
            .bind(*amount)
            .bind(now)
            .execute(&mut *conn)
            .await?
        };
        if changed.rows_affected() != 1 {
            return Err(LedgerError::InsufficientFunds(account.id()).into());
        }
    }
    if entries.is_empty() {
        return Ok(true);
    }
    let sql = format!(
        "INSERT INTO ledger_entries (id, account_id, amount_yen, transfer_id, at_ms) VALUES {}",
        params::rows(3, entries.len(), 3, "$1, $2")
    );
    let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&transfer_id)
        .bind(now);
    for (_, id, amount) in entries {
        insert = insert.bind(new_id()).bind(id).bind(amount);
    }
    insert.execute(&mut *conn).await?;
    Ok(true)
}

/// The balance of one account (0 when it was never used); of a sharded account, the sum of its
/// shards.
pub async fn balance(conn: &mut AnyConnection, account: &AccountRef) -> Result<i64, sqlx::Error> {
    let id = account.id();
    if !account.is_sharded() {
        let b: Option<i64> =
            sqlx::query_scalar("SELECT balance_yen FROM ledger_accounts WHERE id = $1")
                .bind(id)
                .fetch_optional(conn)
                .await?;
        return Ok(b.unwrap_or(0));
    }
    // The shards `<id>:NN` (and the unsharded row `<id>` of older data) sort between `<id>` and
    // `<id>;` (`;` follows `:`), a range of the primary key.
    // CAST: PostgreSQL's SUM over BIGINT is NUMERIC, which the Any driver cannot read.
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(balance_yen), 0) AS BIGINT) FROM ledger_accounts \
         WHERE id >= $1 AND id < $2",
    )
    .bind(&id)
    .bind(format!("{id};"))
    .fetch_one(conn)
    .await
}

/// One line of a user's ledger.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntryRow {
    pub entry_id: String,
    pub account_kind: String,
    pub amount_yen: i64,
    pub at_ms: i64,
    pub code: String,
    pub order_id: Option<String>,
    pub memo: String,
    /// The payout the transfer belongs to, with its current state, fee, net and payment date.
    pub payout_id: Option<String>,
    pub payout_state: Option<String>,
    pub payout_fee_yen: Option<i64>,
    pub payout_net_yen: Option<i64>,
    pub payout_scheduled_for: Option<String>,
}

// The payout columns join the payouts table (owned by `payouts`) so that a seller's ledger shows
// every payout, its fee and its current status next to the yen that moved.
const ENTRY_COLUMNS: &str = "e.id AS entry_id, a.kind AS account_kind, e.amount_yen, e.at_ms, \
    t.code, t.order_id, t.memo, t.payout_id, p.state AS payout_state, p.fee_yen AS payout_fee_yen, \
    p.net_yen AS payout_net_yen, p.scheduled_for AS payout_scheduled_for";
const ENTRY_FROM: &str = "FROM ledger_entries e \
    JOIN ledger_accounts a ON a.id = e.account_id \
    JOIN ledger_transfers t ON t.id = e.transfer_id \
    LEFT JOIN payouts p ON p.id = t.payout_id";

/// The entries of a user's accounts, newest first, after `before` (keyset on (at, id)).
pub async fn entries_of_user(
    conn: &mut AnyConnection,
    user_id: &str,
    before: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<EntryRow>, sqlx::Error> {
    let (at, id) = before.unwrap_or((i64::MAX, String::from("~")));
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENTRY_COLUMNS} {ENTRY_FROM} \
         WHERE a.owner_id = $1 AND a.kind IN ('earnings', 'points', 'payout_pending') \
           AND (e.at_ms < $2 OR (e.at_ms = $2 AND e.id < $3)) \
         ORDER BY e.at_ms DESC, e.id DESC LIMIT $4"
    )))
    .bind(user_id)
    .bind(at)
    .bind(id)
    .bind(limit + 1)
    .fetch_all(conn)
    .await
}

/// Every entry of a user's accounts, oldest first (the CSV download for 確定申告).
pub async fn all_entries_of_user(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<Vec<EntryRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENTRY_COLUMNS} {ENTRY_FROM} \
         WHERE a.owner_id = $1 AND a.kind IN ('earnings', 'points', 'payout_pending') \
         ORDER BY e.at_ms, e.id"
    )))
    .bind(user_id)
    .fetch_all(conn)
    .await
}

/// The result of recomputing the whole ledger.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct Verification {
    /// True when nothing is wrong.
    pub ok: bool,
    /// Number of accounts.
    pub accounts: i64,
    /// Number of transfers.
    pub transfers: i64,
    /// Sum of all balances (must be 0).
    pub imbalance_yen: i64,
    /// Human-readable problems found.
    pub problems: Vec<String>,
}

/// Recomputes every balance from the entries and checks the ledger's invariants: all accounts sum
/// to zero, each transfer sums to zero, each stored balance equals its entries, no user account is
/// negative, and the escrow of every finished order is empty.
pub async fn verify(conn: &mut AnyConnection) -> Result<Verification, sqlx::Error> {
    let accounts = sqlx::query_scalar("SELECT COUNT(*) FROM ledger_accounts")
        .fetch_one(&mut *conn)
        .await?;
    let transfers = sqlx::query_scalar("SELECT COUNT(*) FROM ledger_transfers")
        .fetch_one(&mut *conn)
        .await?;
    let mut v = Verification {
        accounts,
        transfers,
        ..Verification::default()
    };
    // CAST: PostgreSQL's SUM over BIGINT is NUMERIC, which the Any driver cannot read.
    v.imbalance_yen = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(balance_yen), 0) AS BIGINT) FROM ledger_accounts",
    )
    .fetch_one(&mut *conn)
    .await?;
    if v.imbalance_yen != 0 {
        v.problems.push(format!(
            "all balances sum to {} yen, not 0",
            v.imbalance_yen
        ));
    }
    let unbalanced: Vec<(String, i64)> = sqlx::query_as(
        "SELECT t.idempotency_key, CAST(SUM(e.amount_yen) AS BIGINT) FROM ledger_transfers t \
         JOIN ledger_entries e ON e.transfer_id = t.id \
         GROUP BY t.id, t.idempotency_key HAVING SUM(e.amount_yen) <> 0",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (key, sum) in unbalanced {
        v.problems.push(format!("transfer {key} sums to {sum}"));
    }
    let drifted: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT a.id, a.balance_yen, CAST(COALESCE(SUM(e.amount_yen), 0) AS BIGINT) \
         FROM ledger_accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id \
         GROUP BY a.id, a.balance_yen HAVING a.balance_yen <> COALESCE(SUM(e.amount_yen), 0)",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (id, stored, computed) in drifted {
        v.problems.push(format!(
            "account {id} says {stored} but its entries sum to {computed}"
        ));
    }
    let negative: Vec<(String, i64)> = sqlx::query_as(
        "SELECT id, balance_yen FROM ledger_accounts WHERE may_go_negative = 0 AND balance_yen < 0",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (id, b) in negative {
        v.problems.push(format!("account {id} is negative ({b})"));
    }
    let held: Vec<(String, i64)> = sqlx::query_as(
        "SELECT o.id, a.balance_yen FROM orders o JOIN ledger_accounts a ON a.owner_id = o.id \
         WHERE a.kind = 'escrow' AND o.state IN ('completed', 'cancelled') AND a.balance_yen <> 0",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (id, b) in held {
        v.problems
            .push(format!("finished order {id} still holds {b} yen in escrow"));
    }
    v.ok = v.problems.is_empty();
    Ok(v)
}

//! All SQL of payouts: bank accounts and their change history, payout rows with compare-and-set
//! state changes, export batches, the earnings and points figures the sweeps need, reminders sent,
//! and the sweep's run marker.

use sqlx::AnyConnection;

use crate::clock::Millis;
use crate::db::new_id;
use crate::ledger::AccountRef;

/// A stored bank account.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct BankAccountRow {
    pub user_id: String,
    pub bank_code: String,
    pub branch_code: String,
    pub account_type: i64,
    pub account_number: String,
    pub holder_kana: String,
    pub needs_correction: i64,
    pub correction_reason: Option<String>,
    pub version: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// The user's bank account, if registered.
pub async fn bank_account(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<Option<BankAccountRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT user_id, bank_code, branch_code, CAST(account_type AS BIGINT) AS account_type, \
         account_number, holder_kana, CAST(needs_correction AS BIGINT) AS needs_correction, \
         correction_reason, version, created_at_ms, updated_at_ms \
         FROM bank_accounts WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

/// The fields of an account to store.
#[derive(Debug, Clone)]
pub struct NewBankAccount<'a> {
    pub bank_code: &'a str,
    pub branch_code: &'a str,
    pub account_type: i64,
    pub account_number: &'a str,
    pub holder_kana: &'a str,
}

/// Registers or replaces the user's account; a replacement clears the correction mark.
pub async fn upsert_bank_account(
    conn: &mut AnyConnection,
    user_id: &str,
    a: &NewBankAccount<'_>,
    now: Millis,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO bank_accounts (user_id, bank_code, branch_code, account_type, account_number, \
         holder_kana, needs_correction, correction_reason, version, created_at_ms, updated_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, NULL, 1, $7, $7) \
         ON CONFLICT (user_id) DO UPDATE SET bank_code = $2, branch_code = $3, account_type = $4, \
         account_number = $5, holder_kana = $6, needs_correction = 0, correction_reason = NULL, \
         version = bank_accounts.version + 1, updated_at_ms = $7",
    )
    .bind(user_id)
    .bind(a.bank_code)
    .bind(a.branch_code)
    .bind(i16::try_from(a.account_type).unwrap_or(0))
    .bind(a.account_number)
    .bind(a.holder_kana)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes the user's account. Returns whether there was one.
pub async fn delete_bank_account(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM bank_accounts WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Marks the account for correction if it still is the one a payout was sent to. Returns whether
/// it was marked.
pub async fn mark_for_correction(
    conn: &mut AnyConnection,
    p: &PayoutRow,
    reason: &str,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE bank_accounts SET needs_correction = 1, correction_reason = $2, \
         version = version + 1, updated_at_ms = $3 \
         WHERE user_id = $1 AND bank_code = $4 AND branch_code = $5 AND account_type = $6 \
           AND account_number = $7",
    )
    .bind(&p.user_id)
    .bind(reason)
    .bind(now)
    .bind(&p.bank_code)
    .bind(&p.branch_code)
    .bind(i16::try_from(p.account_type).unwrap_or(0))
    .bind(&p.account_number)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Appends to the bank account history.
#[allow(clippy::too_many_arguments)] // one column each; a struct would only rename them
pub async fn insert_bank_change(
    conn: &mut AnyConnection,
    user_id: &str,
    now: Millis,
    actor: &str,
    actor_id: Option<&str>,
    action: &str,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO bank_account_changes (id, user_id, at_ms, actor, actor_id, action, \
         before_json, after_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(user_id)
    .bind(now)
    .bind(actor)
    .bind(actor_id.map(str::to_string))
    .bind(action)
    .bind(before.map(|v| v.to_string()))
    .bind(after.map(|v| v.to_string()))
    .execute(conn)
    .await?;
    Ok(())
}

/// A stored payout.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PayoutRow {
    pub id: String,
    pub user_id: String,
    pub state: String,
    pub version: i64,
    pub origin: String,
    pub amount_yen: i64,
    pub fee_yen: i64,
    pub net_yen: i64,
    pub requested_at_ms: i64,
    pub scheduled_for: String,
    pub bank_code: String,
    pub branch_code: String,
    pub account_type: i64,
    pub account_number: String,
    pub holder_kana: String,
    pub batch_id: Option<String>,
    pub exported_at_ms: Option<i64>,
    pub settled_at_ms: Option<i64>,
    pub failure_reason: Option<String>,
}

const PAYOUT_COLUMNS: &str = "id, user_id, state, version, origin, amount_yen, fee_yen, net_yen, \
    requested_at_ms, scheduled_for, bank_code, branch_code, \
    CAST(account_type AS BIGINT) AS account_type, account_number, holder_kana, batch_id, \
    exported_at_ms, settled_at_ms, failure_reason";

/// Inserts a new payout. A second open payout of the same user violates the unique index
/// `payouts_one_open_per_user` (the caller maps it to a conflict).
pub async fn insert_payout(conn: &mut AnyConnection, p: &PayoutRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO payouts (id, user_id, state, version, origin, amount_yen, fee_yen, net_yen, \
         requested_at_ms, scheduled_for, bank_code, branch_code, account_type, account_number, \
         holder_kana) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&p.id)
    .bind(&p.user_id)
    .bind(&p.state)
    .bind(p.version)
    .bind(&p.origin)
    .bind(p.amount_yen)
    .bind(p.fee_yen)
    .bind(p.net_yen)
    .bind(p.requested_at_ms)
    .bind(&p.scheduled_for)
    .bind(&p.bank_code)
    .bind(&p.branch_code)
    .bind(i16::try_from(p.account_type).unwrap_or(0))
    .bind(&p.account_number)
    .bind(&p.holder_kana)
    .execute(conn)
    .await?;
    Ok(())
}

/// One payout by id.
pub async fn payout_by_id(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<PayoutRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PAYOUT_COLUMNS} FROM payouts WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The user's open (pending or exported) payout, if any.
pub async fn open_payout_of(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<Option<PayoutRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PAYOUT_COLUMNS} FROM payouts \
         WHERE user_id = $1 AND state IN ('pending', 'exported')"
    )))
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

/// A page of the user's payouts, newest first, after `before` (keyset on (requested_at, id)).
pub async fn payouts_of_user(
    conn: &mut AnyConnection,
    user_id: &str,
    before: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<PayoutRow>, sqlx::Error> {
    let (at, id) = before.unwrap_or((i64::MAX, "~".to_string()));
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PAYOUT_COLUMNS} FROM payouts WHERE user_id = $1 \
         AND (requested_at_ms < $2 OR (requested_at_ms = $2 AND id < $3)) \
         ORDER BY requested_at_ms DESC, id DESC LIMIT $4"
    )))
    .bind(user_id)
    .bind(at)
    .bind(id)
    .bind(limit + 1)
    .fetch_all(conn)
    .await
}

/// Pending payouts due on or before `pay_date` (YYYY-MM-DD compares as text), oldest first.
pub async fn due_payouts(
    conn: &mut AnyConnection,
    pay_date: &str,
) -> Result<Vec<PayoutRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PAYOUT_COLUMNS} FROM payouts WHERE state = 'pending' AND scheduled_for <= $1 \
         ORDER BY requested_at_ms, id"
    )))
    .bind(pay_date)
    .fetch_all(conn)
    .await
}

/// The payouts of a batch, in file order.
pub async fn payouts_of_batch(
    conn: &mut AnyConnection,
    batch_id: &str,
) -> Result<Vec<PayoutRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PAYOUT_COLUMNS} FROM payouts WHERE batch_id = $1 ORDER BY requested_at_ms, id"
    )))
    .bind(batch_id)
    .fetch_all(conn)
    .await
}

/// A state change to write with compare-and-set.
#[derive(Debug, Clone)]
pub struct StateChange<'a> {
    pub new_state: &'a str,
    pub batch_id: Option<&'a str>,
    pub exported_at_ms: Option<i64>,
    pub settled_at_ms: Option<i64>,
    pub failure_reason: Option<&'a str>,
}

/// Writes a state change if nobody changed the payout since it was read (same state and version).
/// Fields given as `None` keep their value. Returns whether it did.
pub async fn update_state(
    conn: &mut AnyConnection,
    old: &PayoutRow,
    c: &StateChange<'_>,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE payouts SET state = $3, version = version + 1, \
         batch_id = COALESCE($4, batch_id), exported_at_ms = COALESCE($5, exported_at_ms), \
         settled_at_ms = COALESCE($6, settled_at_ms), failure_reason = COALESCE($7, failure_reason) \
         WHERE id = $1 AND version = $2 AND state = $8",
    )
    .bind(&old.id)
    .bind(old.version)
    .bind(c.new_state)
    .bind(c.batch_id.map(str::to_string))
    .bind(c.exported_at_ms)
    .bind(c.settled_at_ms)
    .bind(c.failure_reason.map(str::to_string))
    .bind(&old.state)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Tags a ledger transfer with the payout it belongs to (read back in the seller's ledger).
pub async fn link_transfer(
    conn: &mut AnyConnection,
    transfer_key: &str,
    payout_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE ledger_transfers SET payout_id = $1 WHERE idempotency_key = $2")
        .bind(payout_id)
        .bind(transfer_key)
        .execute(conn)
        .await?;
    Ok(())
}

/// A stored export batch.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BatchRow {
    pub id: String,
    pub pay_date: String,
    pub payout_count: i64,
    pub total_yen: i64,
    pub file_bytes: Vec<u8>,
    pub created_at_ms: i64,
    pub created_by: String,
}

/// Stores a batch and its file.
pub async fn insert_batch(conn: &mut AnyConnection, b: &BatchRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO payout_batches (id, pay_date, payout_count, total_yen, file_bytes, \
         created_at_ms, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&b.id)
    .bind(&b.pay_date)
    .bind(b.payout_count)
    .bind(b.total_yen)
    .bind(b.file_bytes.clone())
    .bind(b.created_at_ms)
    .bind(&b.created_by)
    .execute(conn)
    .await?;
    Ok(())
}

/// One batch by id.
pub async fn batch_by_id(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<BatchRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, pay_date, payout_count, total_yen, file_bytes, created_at_ms, created_by \
         FROM payout_batches WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Owners of accounts of `kind` with a positive balance.
pub async fn owners_with_balance(
    conn: &mut AnyConnection,
    kind: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT owner_id FROM ledger_accounts \
         WHERE kind = $1 AND balance_yen > 0 AND owner_id IS NOT NULL ORDER BY owner_id",
    )
    .bind(kind)
    .fetch_all(conn)
    .await
}

/// Every credit (time, amount) to an account and the sum of its debits, for the ageing of
/// earnings.
pub async fn flows(
    conn: &mut AnyConnection,
    account: &AccountRef,
) -> Result<(Vec<(i64, i64)>, i64), sqlx::Error> {
    let credits: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT at_ms, amount_yen FROM ledger_entries \
         WHERE account_id = $1 AND amount_yen > 0 ORDER BY at_ms, id",
    )
    .bind(account.id())
    .fetch_all(&mut *conn)
    .await?;
    // CAST: PostgreSQL's SUM over BIGINT is NUMERIC, which the Any driver cannot read.
    let debits: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(-amount_yen), 0) AS BIGINT) FROM ledger_entries \
         WHERE account_id = $1 AND amount_yen < 0",
    )
    .bind(account.id())
    .fetch_one(&mut *conn)
    .await?;
    Ok((credits, debits))
}

/// When an account was last credited.
pub async fn last_credit_at(
    conn: &mut AnyConnection,
    account: &AccountRef,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT MAX(at_ms) FROM ledger_entries WHERE account_id = $1 AND amount_yen > 0",
    )
    .bind(account.id())
    .fetch_one(conn)
    .await
}

/// Records a reminder; returns false when it was already sent.
pub async fn record_reminder(
    conn: &mut AnyConnection,
    user_id: &str,
    deadline_ms: i64,
    days_before: i64,
    now: Millis,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO payout_reminders (user_id, deadline_ms, days_before, sent_at_ms) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, deadline_ms, days_before) DO NOTHING",
    )
    .bind(user_id)
    .bind(deadline_ms)
    .bind(days_before)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// When the sweep `name` last ran, if ever.
pub async fn last_sweep(conn: &mut AnyConnection, name: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT last_run_ms FROM payout_sweeps WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await
}

/// Claims the sweep `name` when it last ran at least `interval_ms` before `now` (compare-and-set,
/// so one instance runs it). Returns whether this caller runs it.
pub async fn claim_sweep(
    conn: &mut AnyConnection,
    name: &str,
    now: Millis,
    interval_ms: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO payout_sweeps (name, last_run_ms) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET last_run_ms = $2 \
         WHERE payout_sweeps.last_run_ms <= $3",
    )
    .bind(name)
    .bind(now)
    .bind(now - interval_ms)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Payouts in one state, oldest request first, at most `limit`.
pub async fn payouts_in_state(
    conn: &mut AnyConnection,
    state: &str,
    limit: i64,
) -> Result<Vec<PayoutRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PAYOUT_COLUMNS} FROM payouts WHERE state = $1 \
         ORDER BY requested_at_ms, id LIMIT $2"
    )))
    .bind(state)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// A batch without its file.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BatchSummaryRow {
    pub id: String,
    pub pay_date: String,
    pub payout_count: i64,
    pub total_yen: i64,
    pub created_at_ms: i64,
    pub created_by: String,
}

/// The latest batches, newest first, without their files.
pub async fn recent_batches(
    conn: &mut AnyConnection,
    limit: i64,
) -> Result<Vec<BatchSummaryRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, pay_date, payout_count, total_yen, created_at_ms, created_by \
         FROM payout_batches ORDER BY created_at_ms DESC, id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// An open payout of the operators' queue with its seller's display name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueuedPayoutRow {
    #[sqlx(flatten)]
    pub payout: PayoutRow,
    /// The seller's display name (empty for an unknown user).
    pub user_name: String,
}

/// The operators' payout queue in one query: pending then exported payouts, each state oldest
/// request first and at most `limit` of it — the same rows as [`payouts_in_state`] for the two
/// states — each with its seller's display name.
pub async fn open_payout_queue(
    conn: &mut AnyConnection,
    limit: i64,
) -> Result<Vec<QueuedPayoutRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT q.*, COALESCE(u.display_name, '') AS user_name FROM (\
           SELECT {PAYOUT_COLUMNS}, \
             ROW_NUMBER() OVER (PARTITION BY state ORDER BY requested_at_ms, id) AS place \
           FROM payouts WHERE state IN ('pending', 'exported')\
         ) q LEFT JOIN users u ON u.id = q.user_id \
         WHERE q.place <= $1 \
         ORDER BY CASE q.state WHEN 'pending' THEN 0 ELSE 1 END, q.requested_at_ms, q.id"
    )))
    .bind(limit)
    .fetch_all(conn)
    .await
}

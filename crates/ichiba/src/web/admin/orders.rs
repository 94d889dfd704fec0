//! Order interventions (`/admin/orders/{id}`): an order's facts, amounts and history as the
//! operators see them, and the operator commands — cancel (full refund), complete, or settle with
//! a part for the seller and the rest refunded.

use askama::Template;
use axum::extract::{Path, State};
use serde::Deserialize;

use super::{error_text, operator};
use crate::auth::Identity;
use crate::error::AppError;
use crate::orders::actions::Action;
use crate::orders::{self, Command};
use crate::state::AppState;
use crate::web::format::{jst_datetime, jst_rfc3339, order_status, url_encode, yen};
use crate::web::session::{CsrfForm, FORM_INVALID, NoFields};
use crate::web::{
    Layout, PageResult, Viewer, WebError, render, render_status, see_other, shown_on_form,
};

/// A yen amount typed into a form (`12,000`, `12000円`), if it is a whole number.
fn parse_yen(raw: &str) -> Option<i64> {
    let digits: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | '，' | '円' | ' ' | '¥'))
        .collect();
    digits.parse::<i64>().ok()
}

/// Who did something to an order, in words.
fn actor_label(actor: &str) -> &'static str {
    match actor {
        "buyer" => "購入者",
        "seller" => "出品者",
        "operator" => "運営",
        "system" => "システム",
        _ => "不明",
    }
}

/// An entry of the order history in words (its kind itself when unknown).
fn history_label(kind: &str) -> String {
    match kind {
        "due_date_changed" => "お届け予定日の変更".into(),
        "cancel_requested" => "キャンセル申請".into(),
        "cancel_withdrawn" => "キャンセル申請の取り下げ".into(),
        "cancel_rejected" => "キャンセル申請のお断り".into(),
        "cancelled" => "キャンセル".into(),
        "completed" => "完了".into(),
        "operator_completed" => "運営による完了".into(),
        "operator_settled" => "運営による精算".into(),
        other => other.to_string(),
    }
}

/// An entry of the order history as shown.
struct HistoryRow {
    at: String,
    actor: &'static str,
    kind: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin_order.html")]
struct OrderPage {
    layout: Layout,
    section: &'static str,
    id: String,
    title: String,
    listing_id: String,
    buyer_id: String,
    buyer: String,
    seller_id: String,
    seller: String,
    status: &'static str,
    status_class: &'static str,
    facts: Vec<(&'static str, String)>,
    amounts: Vec<(&'static str, String)>,
    subtotal: String,
    subtotal_yen: i64,
    /// The operator's actions the engine allows now (`orders::actions::available`).
    can_cancel: bool,
    can_complete: bool,
    can_settle: bool,
    history: Vec<HistoryRow>,
    amount: String,
    error: Option<String>,
}

async fn order_view(
    state: &AppState,
    viewer: &Viewer,
    op: &Identity,
    id: &str,
    amount: String,
    error: Option<String>,
) -> Result<OrderPage, WebError> {
    let o = orders::get(state, op, id).await?;
    let history = orders::history(state, op, id).await?;
    let mut conn = state.db.pool().acquire().await?;
    let (buyer, seller) = orders::store::party_names(&mut conn, id)
        .await?
        .unwrap_or_default();
    drop(conn);
    let (status, status_class) = order_status(o.state);
    let mut facts = vec![
        ("購入日時", jst_datetime(o.purchased_at)),
        ("お届け予定日", jst_datetime(o.due_at)),
    ];
    if o.late {
        facts.push(("納期", "お届け予定日を過ぎました（出品者の遅延）".into()));
    }
    if let Some(t) = o.delivered_at {
        facts.push(("納品日時", jst_datetime(t)));
    }
    if let Some(t) = o.accept_deadline {
        facts.push(("自動承諾の期限", jst_datetime(t)));
    }
    if let Some(t) = o.completed_at {
        facts.push(("完了日時", jst_datetime(t)));
    }
    if let Some(t) = o.cancelled_at {
        facts.push(("キャンセル日時", jst_datetime(t)));
    }
    if let Some(c) = &o.cancellation {
        facts.push((
            "キャンセル理由",
            format!("{}（{}）", c.reason.label(), actor_label(c.by.as_str())),
        ));
    }
    if let Some(r) = &o.pending_cancel {
        let by = match r.by {
            orders::model::Side::Buyer => "購入者",
            orders::model::Side::Seller => "出品者",
        };
        let note = if r.note.is_empty() {
            String::new()
        } else {
            format!("「{}」", r.note)
        };
        facts.push((
            "キャンセル申請中",
            format!(
                "{by}から：{}{note}（{}に自動成立）",
                r.reason.label(),
                jst_datetime(r.expires_at)
            ),
        ));
    }
    facts.push((
        "差し戻し",
        format!("{} / {}回", o.send_backs_used, o.policy.send_backs_allowed),
    ));
    let mut amounts = vec![
        ("サービス価格", yen(o.price_yen)),
        ("オプション", yen(o.options_yen)),
        ("購入者の手数料", yen(o.buyer_fee_yen)),
        ("支払総額", yen(o.total_yen)),
        ("うちポイント利用", format!("{}pt", o.points_used)),
    ];
    if let Some(s) = o.settlement_seller_yen {
        amounts.push(("精算時の出品者への支払額", yen(s)));
    }
    let allowed = orders::actions::available(&o, orders::Actor::Operator, state.clock.now_ms());
    Ok(OrderPage {
        layout: viewer.layout(format!("注文：{}", o.title)),
        section: "orders",
        id: o.id.clone(),
        title: o.title.clone(),
        listing_id: o.listing_id.clone(),
        buyer,
        buyer_id: o.buyer_id.clone(),
        seller,
        seller_id: o.seller_id.clone(),
        status,
        status_class,
        facts,
        amounts,
        subtotal: yen(o.subtotal_yen()),
        subtotal_yen: o.subtotal_yen(),
        can_cancel: allowed.can(Action::OperatorCancel),
        can_complete: allowed.can(Action::OperatorComplete),
        can_settle: allowed.can(Action::OperatorSettle),
        history: history
            .iter()
            .map(|h| HistoryRow {
                at: jst_rfc3339(&h.at),
                actor: actor_label(&h.actor),
                kind: history_label(&h.kind),
                detail: if h.detail.as_object().is_some_and(|m| m.is_empty()) {
                    String::new()
                } else {
                    h.detail.to_string()
                },
            })
            .collect(),
        amount,
        error,
    })
}

/// `GET /admin/orders/{id}`.
pub(super) async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    let op = operator(&viewer)?;
    render(&order_view(&state, &viewer, &op, &id, String::new(), None).await?)
}

/// Runs an operator command on an order and comes back to it; a refusal is shown on the order's
/// page with the amount typed.
async fn intervene(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    command: Command,
    flash: &str,
    amount: String,
) -> PageResult {
    let op = operator(viewer)?;
    match orders::act(state, &op, id, command, None, state.clock.now_ms())
        .await
        .map_err(AppError::from)
    {
        Ok(_) => Ok(see_other(
            &format!("/admin/orders/{}", url_encode(id)),
            Some(flash),
        )),
        Err(e) if shown_on_form(&e) => {
            let page = order_view(state, viewer, &op, id, amount, Some(error_text(&e))).await?;
            render_status(e.status(), &page)
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/orders/{id}/cancel`: the buyer is refunded in full.
pub(super) async fn cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    let flash = "運営として取引をキャンセルしました。購入者には全額返金されます。";
    intervene(
        &state,
        &viewer,
        &id,
        Command::OperatorCancel,
        flash,
        String::new(),
    )
    .await
}

/// `POST /admin/orders/{id}/complete`: the seller's earnings are settled.
pub(super) async fn complete(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    let flash = "運営として取引を完了にしました。出品者の売上が確定します。";
    intervene(
        &state,
        &viewer,
        &id,
        Command::OperatorComplete,
        flash,
        String::new(),
    )
    .await
}

/// The settle form: the seller's part as typed.
#[derive(Debug, Deserialize)]
pub(super) struct SettleOrderForm {
    #[serde(default)]
    seller_amount_yen: String,
}

/// `POST /admin/orders/{id}/settle`: the seller's part, the rest refunded.
pub(super) async fn settle(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<SettleOrderForm>,
) -> PageResult {
    let op = operator(&viewer)?;
    let Some(seller_amount_yen) = parse_yen(&f.seller_amount_yen) else {
        let page = order_view(
            &state,
            &viewer,
            &op,
            &id,
            f.seller_amount_yen,
            Some("出品者への支払額を数字で入力してください。".into()),
        )
        .await?;
        return render_status(FORM_INVALID, &page);
    };
    let flash = format!(
        "出品者への支払額を{}として取引を精算しました。残りは購入者に返金されます。",
        yen(seller_amount_yen)
    );
    intervene(
        &state,
        &viewer,
        &id,
        Command::OperatorSettle { seller_amount_yen },
        &flash,
        f.seller_amount_yen,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yen_amounts_accept_separators() {
        assert_eq!(parse_yen("12,000"), Some(12000));
        assert_eq!(parse_yen(" 12000円 "), Some(12000));
        assert_eq!(parse_yen("¥3，000"), Some(3000));
        assert_eq!(parse_yen("0"), Some(0));
        assert_eq!(parse_yen("-5"), Some(-5));
        assert_eq!(parse_yen("abc"), None);
        assert_eq!(parse_yen(""), None);
    }

    #[test]
    fn order_labels() {
        assert_eq!(actor_label("operator"), "運営");
        assert_eq!(history_label("operator_settled"), "運営による精算");
        assert_eq!(history_label("something_new"), "something_new");
    }
}

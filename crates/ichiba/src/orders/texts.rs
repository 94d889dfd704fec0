//! Every Japanese sentence the deal produces: the notices to the parties and the system messages
//! of the talk room. The engine decides *which* notice or message (typed values in a
//! [`Decision`](super::model::Decision)); this module says it in words, from the order after the
//! decision. Changing a wording happens here and nowhere else.

use super::model::{CancelReason, Order, Side};
use crate::clock::{Millis, jst_date, jst_datetime};

/// How an order came to be completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// The buyer accepted the delivery (承諾).
    BuyerAccepted,
    /// Nobody answered the delivery within the accept window (自動承諾).
    AutoAccepted,
    /// An operator completed it.
    Operator,
    /// The room reached its age cap.
    RoomCap,
}

/// How an order came to be cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelling {
    /// The other party accepted a cancel request.
    RequestAccepted(CancelReason),
    /// A cancel request went unanswered until it expired.
    RequestExpired(CancelReason),
    /// The seller did not reply within the first-reply window.
    NoFirstReply,
    /// An operator cancelled.
    Operator,
}

/// A system message of the talk room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemMessage {
    /// The purchase opened the room.
    Purchased,
    /// The seller moved the due date.
    DueDateChanged {
        /// The due date before.
        from: Millis,
        /// The due date after.
        to: Millis,
    },
    /// A party filed a cancel request.
    CancelRequested {
        /// Who filed it.
        by: Side,
        /// Why.
        reason: CancelReason,
    },
    /// The filer withdrew the request.
    CancelWithdrawn,
    /// The other party rejected the request.
    CancelRejected,
    /// The order was cancelled.
    Cancelled(Cancelling),
    /// The order was completed.
    Completed(Completion),
    /// An operator settled the order with a split.
    Settled,
}

/// What a notice tells its party.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// To the seller: the listing was bought.
    Purchased,
    /// To the buyer: the seller's first message arrived.
    FirstReply,
    /// To the buyer: the due date moved.
    DueDateChanged {
        /// Before.
        from: Millis,
        /// After.
        to: Millis,
    },
    /// To the buyer: the formal delivery arrived.
    Delivered {
        /// When it is accepted automatically.
        accept_deadline: Millis,
    },
    /// To the seller: the delivery was sent back.
    SentBack,
    /// To the other party: a cancel request arrived.
    CancelRequested {
        /// Why.
        reason: CancelReason,
        /// When it is accepted automatically.
        expires_at: Millis,
    },
    /// To the filer: the request was rejected.
    CancelRejected,
    /// To both: the order was cancelled.
    Cancelled(Cancelling),
    /// To both: the order was completed.
    Completed(Completion),
    /// To both: an operator settled the order.
    Settled,
    /// To the seller: the first-reply deadline is near.
    FirstReplyReminder {
        /// Whole hours left.
        hours_left: i64,
    },
    /// To both: the due date passed.
    Overdue,
    /// To the buyer: the accept deadline is near.
    AcceptReminder {
        /// Whole hours left.
        hours_left: i64,
    },
    /// To both: the room closes soon.
    RoomCapReminder {
        /// Days left, rounded up.
        days_left: i64,
    },
}

/// A rendered notice: a stable kind code, a title and a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeText {
    /// Stable kind (`purchased`, `first_reply_reminder`, …), stored with the notification.
    pub kind: &'static str,
    /// Japanese title.
    pub title: String,
    /// Japanese body.
    pub body: String,
}

fn completion_how(c: Completion, o: &Order) -> String {
    match c {
        Completion::BuyerAccepted => "購入者の承諾".into(),
        Completion::AutoAccepted => "自動承諾".into(),
        Completion::Operator => "運営の対応".into(),
        Completion::RoomCap => format!("購入から{}日の経過", o.policy.room_max_days),
    }
}

/// The talk-room text of a system message about `o` (the order after the decision).
pub fn system_message(o: &Order, m: SystemMessage) -> String {
    match m {
        SystemMessage::Purchased => format!(
            "ご購入ありがとうございます。出品者は{}時間以内にトークルームでご連絡します。お届け予定日は{}です。",
            o.policy.first_reply_hours,
            jst_date(o.due_at)
        ),
        SystemMessage::DueDateChanged { from, to } => format!(
            "お届け予定日が{}から{}に変更されました。",
            jst_date(from),
            jst_date(to)
        ),
        SystemMessage::CancelRequested { by, reason } => format!(
            "{}からキャンセルリクエストが送信されました（理由: {}）。{}時間以内に回答がない場合は自動でキャンセルが成立します。",
            by.label(),
            reason.label(),
            o.policy.cancel_reply_hours
        ),
        SystemMessage::CancelWithdrawn => "キャンセルリクエストが取り下げられました。".into(),
        SystemMessage::CancelRejected => {
            "キャンセルリクエストは拒否されました。取引を続けてください。".into()
        }
        SystemMessage::Cancelled(how) => cancelled(o, how),
        SystemMessage::Completed(c) => format!(
            "{}により取引が完了しました。お互いに評価をお願いします。",
            completion_how(c, o)
        ),
        SystemMessage::Settled => "運営の判断により、取引は精算のうえ終了しました。".into(),
    }
}

fn cancelled(o: &Order, how: Cancelling) -> String {
    match how {
        Cancelling::RequestAccepted(reason) => format!(
            "キャンセルリクエストが承諾され、取引はキャンセルされました（理由: {}）。お支払いは全額返金されます。",
            reason.label()
        ),
        Cancelling::RequestExpired(reason) => format!(
            "{}時間以内に回答がなかったため、キャンセルリクエストが自動で承諾されました（理由: {}）。お支払いは全額返金されます。",
            o.policy.cancel_reply_hours,
            reason.label()
        ),
        Cancelling::NoFirstReply => format!(
            "{}時間以内に出品者からの返信がなかったため、取引は自動キャンセルされました。お支払いは全額返金されます。",
            o.policy.first_reply_hours
        ),
        Cancelling::Operator => {
            "運営により取引がキャンセルされました。お支払いは全額返金されます。".into()
        }
    }
}

/// The notification of `kind` for the party `to` about `o` (the order after the decision).
pub fn notice(o: &Order, to: Side, kind: NoticeKind) -> NoticeText {
    let t = &o.title;
    let (code, title, body) = match kind {
        NoticeKind::Purchased => (
            "purchased",
            format!(
                "サービスが購入されました（{}時間以内にトークルームでご連絡ください）",
                o.policy.first_reply_hours
            ),
            format!(
                "「{t}」が購入されました。{}までに購入者へ最初のメッセージを送ってください。期限を過ぎると取引は自動キャンセルされます。",
                jst_datetime(o.first_reply_deadline)
            ),
        ),
        NoticeKind::FirstReply => (
            "first_reply",
            "出品者から最初のメッセージが届きました".into(),
            format!("「{t}」のトークルームを確認してください。"),
        ),
        NoticeKind::DueDateChanged { from, to } => (
            "due_date_changed",
            "お届け予定日が変更されました".into(),
            format!(
                "「{t}」: {}",
                system_message(o, SystemMessage::DueDateChanged { from, to })
            ),
        ),
        NoticeKind::Delivered { accept_deadline } => (
            "delivered",
            format!(
                "正式な納品がありました（{}時間以内に承諾または差し戻しをしてください）",
                o.policy.accept_hours
            ),
            format!(
                "「{t}」の納品内容を確認してください。{}までに回答がない場合は自動で承諾されます。",
                jst_datetime(accept_deadline)
            ),
        ),
        NoticeKind::SentBack => (
            "sent_back",
            "納品が差し戻されました".into(),
            format!(
                "「{t}」の納品が差し戻されました。内容を確認し、修正後にあらためて正式な納品をしてください。"
            ),
        ),
        NoticeKind::CancelRequested { reason, expires_at } => (
            "cancel_requested",
            "キャンセルリクエストが届きました".into(),
            format!(
                "「{t}」についてキャンセルリクエストが届きました（理由: {}）。{}までに承諾または拒否してください。",
                reason.label(),
                jst_datetime(expires_at)
            ),
        ),
        NoticeKind::CancelRejected => (
            "cancel_rejected",
            "キャンセルリクエストが拒否されました".into(),
            format!("「{t}」の取引は継続します。"),
        ),
        NoticeKind::Cancelled(how) => (
            "cancelled",
            "取引がキャンセルされました".into(),
            format!("「{t}」: {}", cancelled(o, how)),
        ),
        NoticeKind::Completed(c) => {
            let how = completion_how(c, o);
            let body = match to {
                Side::Seller => format!("「{t}」の取引が完了し、売上金に反映されました（{how}）。"),
                Side::Buyer => {
                    format!("「{t}」の取引が完了しました（{how}）。評価をお願いします。")
                }
            };
            ("completed", "取引が完了しました".into(), body)
        }
        NoticeKind::Settled => (
            "settled",
            "運営により取引が精算されました".into(),
            format!("「{t}」の取引は運営の判断により精算されました。"),
        ),
        NoticeKind::FirstReplyReminder { hours_left } => (
            "first_reply_reminder",
            format!("あと{hours_left}時間で自動キャンセルされます"),
            format!(
                "「{t}」の購入者へまだメッセージを送っていません。{}までに送らないと取引は自動キャンセルされます。",
                jst_datetime(o.first_reply_deadline)
            ),
        ),
        NoticeKind::Overdue => (
            "overdue",
            "お届け予定日を過ぎました".into(),
            format!(
                "「{t}」のお届け予定日（{}）を過ぎました。",
                jst_date(o.due_at)
            ),
        ),
        NoticeKind::AcceptReminder { hours_left } => (
            "accept_reminder",
            format!("あと{hours_left}時間で自動承諾されます"),
            format!("「{t}」の納品内容を確認し、承諾または差し戻しをしてください。"),
        ),
        NoticeKind::RoomCapReminder { days_left } => (
            "room_cap_reminder",
            format!("あと{days_left}日でトークルームが終了します"),
            format!(
                "「{t}」は購入から{}日で自動的に完了となります（{}）。",
                o.policy.room_max_days,
                jst_date(o.room_cap_at())
            ),
        ),
    };
    NoticeText {
        kind: code,
        title,
        body,
    }
}

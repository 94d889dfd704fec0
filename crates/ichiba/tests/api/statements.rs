//! Pages whose statements do not grow with their rows: 取引管理 (`/orders`) runs as many SQL
//! statements for thirty orders as for one, and each row still shows the other party and the
//! unread messages of its talk room; the talk room renders 27 templates in the statements it
//! needs for 7.
//!
//! Counting: sqlx emits one tracing event (target `sqlx::query`, at DEBUG, or WARN when slow) per
//! statement it executes; a layer installed once for the whole binary collects them under the
//! DEBUG span `uri` that `edge::uri_span` opens for every request, keyed by that span's URI. Each
//! measured request carries a unique `probe` parameter in its query string and only such requests
//! are collected, so the tests running beside it in this binary neither disturb the count nor fill
//! the tally.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

use crate::helpers::{TestApp, TestUser, html_of};

/// The query parameter that marks a measured request.
const PROBE: &str = "probe=";

/// The statements of finished measured requests, by URI, and a wake-up for whoever waits on one.
#[derive(Default)]
struct Tally {
    finished: Mutex<HashMap<String, Vec<String>>>,
    closed: tokio::sync::Notify,
}

/// What the layer keeps on a request span while it is open: the summaries of its statements.
struct Probe {
    uri: String,
    statements: Mutex<Vec<String>>,
}

struct CollectStatements(Arc<Tally>);

/// One field of a span or event, as text.
struct FieldText(&'static str, Option<String>);

impl Visit for FieldText {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == self.0 {
            self.1 = Some(value.to_string());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == self.0 {
            self.1 = Some(format!("{value:?}"));
        }
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for CollectStatements {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "uri" {
            return;
        }
        let mut uri = FieldText("uri", None);
        attrs.record(&mut uri);
        let Some(uri) = uri.1.filter(|u| u.contains(PROBE)) else {
            return;
        };
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Probe {
                uri,
                statements: Mutex::new(Vec::new()),
            });
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let mut summary = FieldText("summary", None);
        event.record(&mut summary);
        let summary = summary.1.unwrap_or_default();
        // SQLite's PRAGMAs run when the pool opens a connection, which it may do in any request
        // (a released connection returns to the pool asynchronously): set-up, not the page's work.
        if summary.starts_with("PRAGMA") {
            return;
        }
        for span in ctx.event_scope(event).into_iter().flatten() {
            if let Some(probe) = span.extensions().get::<Probe>() {
                if let Ok(mut statements) = probe.statements.lock() {
                    statements.push(summary);
                }
                return;
            }
        }
    }

    // A request span closes when its last handle is dropped: after the response body and after
    // every statement run for it (the SQLite worker thread holds a handle while it executes).
    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(probe) = span.extensions_mut().remove::<Probe>() else {
            return;
        };
        if let (Ok(statements), Ok(mut finished)) =
            (probe.statements.into_inner(), self.0.finished.lock())
        {
            finished.insert(probe.uri, statements);
        }
        self.0.closed.notify_waiters();
    }
}

/// The collecting layer, installed as the global subscriber on first use.
fn tally() -> &'static Arc<Tally> {
    static TALLY: OnceLock<Arc<Tally>> = OnceLock::new();
    TALLY.get_or_init(|| {
        let tally = Arc::new(Tally::default());
        // Only the request spans and the statement events; everything else stays off.
        let filter = Targets::new()
            .with_target("ichiba::edge", Level::DEBUG)
            .with_target("sqlx::query", Level::DEBUG);
        let subscriber = tracing_subscriber::registry()
            .with(CollectStatements(Arc::clone(&tally)).with_filter(filter));
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global tracing subscriber in the test binary");
        tally
    })
}

/// The SQL statements (their first words) the web page `path` runs for `user`, in order.
async fn statements_of(app: &TestApp, user: &TestUser, path: &str) -> Vec<String> {
    let tally = tally();
    let joint = if path.contains('?') { '&' } else { '?' };
    let uri = format!("{path}{joint}{PROBE}{}", ichiba::db::new_id());
    let html = html_of(app, &uri, user).await;
    assert!(html.contains("取引管理"), "{uri}: {html}");
    let finished = async {
        loop {
            let closed = tally.closed.notified();
            if let Some(statements) = tally.finished.lock().expect("tally").remove(&uri) {
                return statements;
            }
            closed.await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), finished)
        .await
        .expect("the request span closes")
}

/// `buyer` buys the listing of `order_id` once more; the new order's id.
async fn buy_again(app: &TestApp, buyer: &TestUser, order_id: &str) -> String {
    let order = app.order(buyer, order_id).await;
    let listing = order["listing_id"].as_str().expect("listing id");
    app.purchase(buyer, listing).await
}

/// The `<li>` of `order_id` in a 取引管理 page.
fn row_of<'a>(html: &'a str, order_id: &str) -> &'a str {
    let start = html
        .find(&format!("href=\"/orders/{order_id}\""))
        .unwrap_or_else(|| panic!("a row for {order_id}"));
    let end = html[start..]
        .find("</li>")
        .map_or(html.len(), |i| start + i);
    &html[start..end]
}

#[tokio::test]
async fn the_orders_page_runs_as_many_statements_for_thirty_orders_as_for_one() {
    let app = TestApp::spawn().await;
    let (seller, buyer, first) = app.deal(5000).await;
    // Not measured: the first requests do what the app does once (a connection's PRAGMAs are
    // left out of every count, wherever the pool opens it).
    statements_of(&app, &buyer, "/orders").await;
    statements_of(&app, &seller, "/orders?role=seller").await;
    let one_as_buyer = statements_of(&app, &buyer, "/orders").await;
    let one_as_seller = statements_of(&app, &seller, "/orders?role=seller").await;

    for _ in 1..30 {
        buy_again(&app, &buyer, &first).await;
    }
    let thirty_as_buyer = statements_of(&app, &buyer, "/orders").await;
    let thirty_as_seller = statements_of(&app, &seller, "/orders?role=seller").await;

    assert_eq!(one_as_buyer, thirty_as_buyer, "buyer: 1 order, then 30");
    assert_eq!(one_as_seller, thirty_as_seller, "seller: 1 order, then 30");
    assert!(
        thirty_as_buyer.len() <= 6,
        "a handful of statements, not one per order: {thirty_as_buyer:#?}"
    );
    assert!(
        thirty_as_buyer
            .iter()
            .any(|s| s.starts_with("SELECT id, listing_id")),
        "the orders are read: {thirty_as_buyer:#?}"
    );
    // And the page does list all thirty, to both parties.
    let rows = |html: String| html.matches("class=\"order-row\"").count();
    assert_eq!(rows(html_of(&app, "/orders", &buyer).await), 30);
    assert_eq!(
        rows(html_of(&app, "/orders?role=seller", &seller).await),
        30
    );
}

#[tokio::test]
async fn the_orders_page_shows_the_other_party_and_the_unread_messages_of_each_order() {
    let app = TestApp::spawn().await;
    let (seller, buyer, first) = app.deal(5000).await;
    let second = buy_again(&app, &buyer, &first).await;
    let unread_of = |html: &str, id: &str| {
        let row = row_of(html, id);
        row.split("未読メッセージ")
            .nth(1)
            .and_then(|s| s.split('件').next())
            .map_or(0, |n| n.parse::<i64>().expect("a count"))
    };
    let before = html_of(&app, "/orders", &buyer).await;
    // Two messages from the seller in the first talk room, none in the second.
    for body in ["ご購入ありがとうございます。", "さっそく始めます。"] {
        let r = app
            .post(
                &format!("/api/v1/orders/{first}/messages"),
                Some(&seller.token),
                json!({"body": body}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    }
    let buyer_page = html_of(&app, "/orders", &buyer).await;
    assert_eq!(
        unread_of(&buyer_page, &first),
        unread_of(&before, &first) + 2
    );
    assert_eq!(unread_of(&buyer_page, &second), unread_of(&before, &second));
    assert!(row_of(&buyer_page, &first).contains("seller ・ "));
    // The seller wrote them: nothing new for the seller, and the buyer is the other party.
    let seller_page = html_of(&app, "/orders?role=seller", &seller).await;
    assert!(row_of(&seller_page, &first).contains("buyer ・ "));
    assert!(row_of(&seller_page, &second).contains("buyer ・ "));
    assert!(!row_of(&seller_page, &first).contains("未読メッセージ"));
    // Opening the talk room reads it: the buyer's count is gone.
    html_of(&app, &format!("/orders/{first}"), &buyer).await;
    let after = html_of(&app, "/orders", &buyer).await;
    assert_eq!(unread_of(&after, &first), 0, "{}", row_of(&after, &first));
}

#[tokio::test]
async fn the_talk_room_renders_any_number_of_templates_in_the_same_statements() {
    let app = TestApp::spawn().await;
    let (seller, _buyer, order) = app.deal(5000).await;
    let room = format!("/orders/{order}");
    statements_of(&app, &seller, &room).await;
    let standard = statements_of(&app, &seller, &room).await;
    for i in 0..20 {
        let r = app
            .post(
                "/api/v1/me/templates",
                Some(&seller.token),
                serde_json::json!({"title": format!("定型文{i}"), "body": "{buyer_name}様、ご連絡ありがとうございます。"}),
            )
            .await;
        assert!(r.status.is_success(), "{r:?}");
    }
    let more = statements_of(&app, &seller, &room).await;
    assert_eq!(standard, more, "7 templates, then 27");
    let html = html_of(&app, &room, &seller).await;
    assert!(html.contains("定型文19"), "the new templates are offered");
}

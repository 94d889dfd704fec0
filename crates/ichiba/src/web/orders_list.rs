//! 取引管理 (`/orders`): the viewer's orders as buyer or as seller, with the other party, the
//! status, the clock that matters now and the unread messages of each talk room.

use super::session::PageQuery;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Deserialize;

use super::format::{order_status, yen};
use super::view::clock_of;
use super::{Layout, PageResult, Viewer, render};
use crate::orders;
use crate::state::AppState;

/// The 取引管理 route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/orders", get(orders))
}

/// An order as a row of 取引管理.
struct OrderRow {
    id: String,
    title: String,
    other: String,
    status: String,
    status_class: &'static str,
    clock: String,
    total: String,
    unread: i64,
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    layout: Layout,
    list: OrdersList,
}

/// The live list of 取引管理 on its own (what the page re-fetches on events).
#[derive(Template)]
#[template(path = "orders_list.html")]
struct OrdersFragment {
    list: OrdersList,
}

struct OrdersList {
    role: String,
    rows: Vec<OrderRow>,
}

#[derive(Debug, Default, Deserialize)]
struct OrdersParams {
    #[serde(default)]
    role: String,
    #[serde(default)]
    fragment: String,
}

async fn orders(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(p): PageQuery<OrdersParams>,
) -> PageResult {
    let me = viewer.require()?.clone();
    let role = if p.role == "seller" {
        "seller"
    } else {
        "buyer"
    };
    let (found, _) = orders::list_rows(&state, &me.user_id, role == "buyer", None).await?;
    let now = state.clock.now_ms();
    let rows = found
        .into_iter()
        .map(|r| {
            let (status, status_class) = order_status(r.order.state);
            OrderRow {
                clock: clock_of(&r.order, now),
                total: yen(r.order.total_yen),
                id: r.order.id,
                title: r.order.title,
                other: r.other_name,
                status: status.into(),
                status_class,
                unread: r.unread,
            }
        })
        .collect();
    let list = OrdersList {
        role: role.into(),
        rows,
    };
    if p.fragment == "1" {
        return render(&OrdersFragment { list });
    }
    render(&OrdersPage {
        layout: viewer.layout("取引管理"),
        list,
    })
}

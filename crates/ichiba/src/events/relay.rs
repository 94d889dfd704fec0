//! The relay between instances on PostgreSQL `LISTEN/NOTIFY`.
//!
//! Sending: [`super::Hub::publish`] puts each event, already serialised, into a bounded queue
//! (publishing waits while it is full: back-pressure, not loss). One task drains it on its own
//! connection, packing as many events as fit into one NOTIFY payload (PostgreSQL's cap is 8,000
//! bytes) and sending one payload per round trip, so the batches grow with the load. An event
//! too large for a payload travels as a stub with its ids; the client fetches the rest.
//!
//! Every payload carries its origin (the sending hub's epoch) and a batch number that grows by
//! one. Receiving: the listener delivers other origins' events to the local streams. A skipped
//! batch number (a payload that could not be sent) or a reconnected listener (notifications sent
//! meanwhile are gone) means events may be lost, so every local stream is told `resync`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;
use sqlx::Connection;
use sqlx::postgres::{PgConnection, PgListener};
use tokio::sync::mpsc;

use super::fanout::Fanout;
use super::{CHANNEL, Event, EventKind};

/// PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more.
pub(super) const MAX_PAYLOAD_BYTES: usize = 7_900;

/// Room for the envelope around the events (origin, batch number, brackets).
const ENVELOPE_BYTES: usize = 100;

/// Events waiting to be relayed before publishing waits.
const QUEUE_LEN: usize = 4_096;

/// Attempts to send one payload (reconnecting in between) before it is given up.
const SEND_ATTEMPTS: u32 = 5;

/// Other origins remembered for batch numbering; more (a long run of restarts) starts afresh.
const MAX_ORIGINS: usize = 1_024;

/// One event as it travels: `{"user_id":…,"kind":…,"data":…}`, built from the data already
/// serialised for the local streams. Too large for one payload, it becomes a stub carrying the
/// ids only.
pub(super) fn wire(event: &Event, data_json: &str) -> String {
    let user = serde_json::to_string(&event.user_id).unwrap_or_default();
    let kind = event.kind.as_str();
    let full = format!(r#"{{"user_id":{user},"kind":"{kind}","data":{data_json}}}"#);
    if full.len() <= MAX_PAYLOAD_BYTES - ENVELOPE_BYTES {
        return full;
    }
    let stub = serde_json::json!({
        "id": event.data.get("id").cloned().unwrap_or_default(),
        "order_id": event.data.get("order_id").cloned().unwrap_or_default(),
        "thread_id": event.data.get("thread_id").cloned().unwrap_or_default(),
        "truncated": true,
    });
    format!(r#"{{"user_id":{user},"kind":"{kind}","data":{stub}}}"#)
}

/// The NOTIFY payload of one batch.
fn envelope(origin: &str, batch: u64, events: &[String]) -> String {
    let size: usize = events.iter().map(|e| e.len() + 1).sum();
    let mut out = String::with_capacity(size + ENVELOPE_BYTES);
    out.push_str(r#"{"origin":"#);
    out.push_str(&serde_json::to_string(origin).unwrap_or_default());
    out.push_str(&format!(r#","batch":{batch},"events":["#));
    out.push_str(&events.join(","));
    out.push_str("]}");
    out
}

/// Takes the events for the next payload: `first`, then what is queued already while it fits.
/// An event that does not fit is returned for the next batch.
fn pack(first: String, rx: &mut mpsc::Receiver<String>) -> (Vec<String>, Option<String>) {
    let mut size = ENVELOPE_BYTES + first.len();
    let mut events = vec![first];
    while let Ok(next) = rx.try_recv() {
        if size + 1 + next.len() > MAX_PAYLOAD_BYTES {
            return (events, Some(next));
        }
        size += 1 + next.len();
        events.push(next);
    }
    (events, None)
}

#[derive(Deserialize)]
struct Incoming<'a> {
    #[serde(borrow)]
    origin: Cow<'a, str>,
    batch: u64,
    #[serde(borrow)]
    events: Vec<WireEvent<'a>>,
}

#[derive(Deserialize)]
struct WireEvent<'a> {
    #[serde(borrow)]
    user_id: Cow<'a, str>,
    kind: EventKind,
    #[serde(borrow)]
    data: &'a RawValue,
}

/// The last batch number seen per origin.
#[derive(Debug, Default)]
struct Batches {
    last: HashMap<String, u64>,
}

impl Batches {
    /// Records batch `n` of `origin`; false when batches of that origin were skipped.
    fn in_order(&mut self, origin: &str, n: u64) -> bool {
        if let Some(last) = self.last.get_mut(origin) {
            let next = *last + 1;
            *last = n;
            return n == next;
        }
        if self.last.len() >= MAX_ORIGINS {
            self.last.clear();
        }
        self.last.insert(origin.to_string(), n);
        true
    }
}

/// Delivers one payload of another instance to the local streams.
fn receive(fanout: &Fanout, batches: &mut Batches, payload: &str) {
    let incoming: Incoming = match serde_json::from_str(payload) {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "unreadable event payload from another instance");
            return;
        }
    };
    if incoming.origin == fanout.epoch() {
        return;
    }
    if !batches.in_order(&incoming.origin, incoming.batch) {
        tracing::warn!(origin = %incoming.origin, batch = incoming.batch,
            "events from another instance were lost; streams resync");
        fanout.resync_all();
    }
    for e in incoming.events {
        fanout.deliver(&e.user_id, e.kind, e.data.get());
    }
}

/// Starts listening and the sending task; returns the sending queue.
///
/// Errors: the listener connection cannot be opened.
pub(super) async fn start(
    fanout: Arc<Fanout>,
    url: &str,
) -> Result<mpsc::Sender<String>, sqlx::Error> {
    let listener = connect_listener(url).await?;
    let origin = fanout.epoch().to_string();
    tokio::spawn(listen(url.to_string(), listener, fanout));
    let (tx, rx) = mpsc::channel(QUEUE_LEN);
    tokio::spawn(send(url.to_string(), origin, rx));
    Ok(tx)
}

async fn connect_listener(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

async fn listen(url: String, mut listener: PgListener, fanout: Arc<Fanout>) {
    let mut batches = Batches::default();
    loop {
        match listener.try_recv().await {
            Ok(Some(n)) => receive(&fanout, &mut batches, n.payload()),
            // The connection was lost and is listening again: what was sent meanwhile is gone.
            Ok(None) => {
                tracing::warn!("event listener reconnected; streams resync");
                fanout.resync_all();
            }
            // Any other failure (the server ended the session, the database is down): start
            // over with a new listener, and only then tell the streams to resync, so a client
            // refetching after the `resync` misses nothing that follows.
            Err(e) => {
                tracing::warn!(error = %e, "event listener failed; reconnecting");
                listener = loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    match connect_listener(&url).await {
                        Ok(l) => break l,
                        Err(e) => tracing::warn!(error = %e, "event listener cannot reconnect"),
                    }
                };
                fanout.resync_all();
            }
        }
    }
}

async fn send(url: String, origin: String, mut rx: mpsc::Receiver<String>) {
    let mut conn: Option<PgConnection> = None;
    let mut batch: u64 = 0;
    let mut carried: Option<String> = None;
    loop {
        let first = match carried.take() {
            Some(e) => e,
            None => match rx.recv().await {
                Some(e) => e,
                None => return,
            },
        };
        // While one payload is on its way, the next events queue up: batches grow with the load.
        let (events, rest) = pack(first, &mut rx);
        carried = rest;
        batch += 1;
        let payload = envelope(&origin, batch, &events);
        if !notify(&url, &mut conn, &payload).await {
            // The batch number is spent, so the other instances see the gap and resync.
            tracing::error!(
                batch,
                events = events.len(),
                "could not relay events to the other instances"
            );
        }
    }
}

/// Sends one payload on the relay's own connection (so a busy request pool cannot delay it),
/// reconnecting between attempts.
async fn notify(url: &str, conn: &mut Option<PgConnection>, payload: &str) -> bool {
    let mut pause = Duration::from_millis(100);
    for _ in 0..SEND_ATTEMPTS {
        if conn.is_none() {
            match PgConnection::connect(url).await {
                Ok(c) => *conn = Some(c),
                Err(e) => tracing::warn!(error = %e, "event relay cannot connect"),
            }
        }
        if let Some(c) = conn.as_mut() {
            match sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(payload)
                .execute(&mut *c)
                .await
            {
                Ok(_) => return true,
                Err(e) => {
                    tracing::warn!(error = %e, "could not relay events");
                    *conn = None;
                }
            }
        }
        tokio::time::sleep(pause).await;
        pause *= 2;
    }
    false
}

#[cfg(test)]
mod tests {
    use futures::{FutureExt, StreamExt};

    use super::*;
    use crate::events::{EventStream, Hub};

    fn event(user: &str, body: &str) -> Event {
        Event {
            user_id: user.into(),
            kind: EventKind::Message,
            data: serde_json::json!({"id": "m1", "thread_id": "t1", "body": body}),
        }
    }

    fn wire_of(e: &Event) -> String {
        wire(e, &e.data.to_string())
    }

    #[test]
    fn oversized_events_travel_as_stubs_with_their_ids() {
        let big = event("u", &"あ".repeat(5000));
        let w = wire_of(&big);
        assert!(w.len() <= MAX_PAYLOAD_BYTES - ENVELOPE_BYTES);
        let back: serde_json::Value = serde_json::from_str(&w).unwrap();
        assert_eq!(back["data"]["id"], "m1");
        assert_eq!(back["data"]["truncated"], true);
        let small = event("u", "こんにちは");
        let back: serde_json::Value = serde_json::from_str(&wire_of(&small)).unwrap();
        assert_eq!(back["data"], small.data);
        assert_eq!(back["kind"], "message");
    }

    #[tokio::test]
    async fn queued_events_are_packed_into_payloads_under_the_cap_in_order() {
        let (tx, mut rx) = mpsc::channel(1000);
        for n in 0..300 {
            tx.send(wire_of(&event(
                "u",
                &format!("メッセージ{n}").repeat(n % 40 + 1),
            )))
            .await
            .unwrap();
        }
        let mut seen = vec![];
        let mut carried = None;
        let mut batch = 0;
        while let Some(first) = carried.take().or_else(|| rx.try_recv().ok()) {
            let (events, rest) = pack(first, &mut rx);
            carried = rest;
            batch += 1;
            let payload = envelope("origin", batch, &events);
            assert!(payload.len() < 8000, "{}", payload.len());
            let incoming: Incoming = serde_json::from_str(&payload).unwrap();
            assert_eq!(incoming.batch, batch);
            for e in incoming.events {
                let data: serde_json::Value = serde_json::from_str(e.data.get()).unwrap();
                seen.push(data["body"].as_str().unwrap().to_string());
            }
        }
        assert!(batch < 300, "several events per payload: {batch} payloads");
        let want: Vec<String> = (0..300)
            .map(|n| format!("メッセージ{n}").repeat(n % 40 + 1))
            .collect();
        assert_eq!(seen, want);
    }

    #[test]
    fn a_skipped_batch_number_is_noticed_per_origin() {
        let mut b = Batches::default();
        assert!(b.in_order("x", 5));
        assert!(b.in_order("x", 6));
        assert!(b.in_order("y", 1));
        assert!(!b.in_order("x", 8));
        assert!(b.in_order("x", 9));
    }

    fn drain(s: &mut EventStream) -> Vec<String> {
        let mut out = vec![];
        while let Some(Some(b)) = s.next().now_or_never() {
            out.push(String::from_utf8(b.to_vec()).unwrap());
        }
        out
    }

    #[tokio::test]
    async fn payloads_of_other_instances_reach_local_streams_and_a_gap_resyncs_them() {
        let hub = Hub::new();
        let mut s = hub.subscribe("u", None);
        drain(&mut s);
        let mut batches = Batches::default();
        let one = wire_of(&event("u", "一通目"));
        let two = wire_of(&event("u", "二通目"));
        receive(
            &hub.fanout,
            &mut batches,
            &envelope("other", 1, std::slice::from_ref(&one)),
        );
        // This instance's own payloads come back from PostgreSQL too; they were delivered already.
        let mine = envelope(hub.fanout.epoch(), 1, &[one]);
        receive(&hub.fanout, &mut batches, &mine);
        let got = drain(&mut s);
        assert_eq!(got.len(), 1);
        assert!(got[0].contains("event: message\ndata: {") && got[0].contains("一通目"));
        // Batch 2 went missing: the stream is told to refetch, which covers what came with
        // batch 3 too (published before the refetch).
        receive(&hub.fanout, &mut batches, &envelope("other", 3, &[two]));
        let got = drain(&mut s);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].contains("event: resync"), "{got:?}");
        let three = wire_of(&event("u", "三通目"));
        receive(&hub.fanout, &mut batches, &envelope("other", 4, &[three]));
        let got = drain(&mut s);
        assert!(got.len() == 1 && got[0].contains("三通目"), "{got:?}");
    }
}

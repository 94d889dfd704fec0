//! Realtime events for the per-user Server-Sent Events stream: new messages, order changes and
//! notifications. Services publish only after their database transaction committed, so a client
//! never sees an event for a write that was rolled back.
//!
//! An event goes only to its user's open streams ([`fanout`]): it is serialised once into the
//! bytes of an SSE frame, shared by those streams and kept in a short per-user ring. Every frame
//! has an id `EPOCH-SEQ`; a client reconnecting with `Last-Event-ID` gets what it missed replayed,
//! and when that cannot be proven complete (an id of another process, older than the ring, a
//! stream that fell behind, events lost between instances) it gets `event: resync` and refetches
//! what it shows. Nothing is skipped silently. On PostgreSQL, events also travel between instances
//! through `LISTEN/NOTIFY` ([`relay`]), so a user connected to instance B sees a message posted on
//! instance A; ids stay per instance, so a client that moves to another instance resyncs.

mod fanout;
mod relay;
mod stream;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

pub use fanout::Limits;
pub use stream::EventStream;

/// What kind of event (the SSE `event:` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A new message in one of the user's threads.
    Message,
    /// One of the user's orders changed.
    Order,
    /// A new notification.
    Notification,
}

impl EventKind {
    /// The SSE event name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Message => "message",
            EventKind::Order => "order",
            EventKind::Notification => "notification",
        }
    }
}

/// One event for one user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    /// Recipient.
    pub user_id: String,
    /// Kind.
    pub kind: EventKind,
    /// JSON payload.
    pub data: serde_json::Value,
}

/// The PostgreSQL channel events travel on between instances.
pub const CHANNEL: &str = "ichiba_events";

/// The fan-out of events: local streams, and other instances when a relay is attached. Cheap to
/// clone (shared state).
#[derive(Clone)]
pub struct Hub {
    fanout: Arc<fanout::Fanout>,
    relay: Option<mpsc::Sender<String>>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("epoch", &self.fanout.epoch())
            .field("relay", &self.relay.is_some())
            .finish()
    }
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    /// A hub with the default [`Limits`].
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    /// A hub keeping to `limits`.
    pub fn with_limits(limits: Limits) -> Self {
        Hub {
            fanout: Arc::new(fanout::Fanout::new(limits)),
            relay: None,
        }
    }

    /// Publishes events to their users' local streams and, with a relay, to the other instances.
    /// Local delivery never waits; relaying waits while the relay's queue is full.
    pub async fn publish(&self, events: impl IntoIterator<Item = Event>) {
        let mut outgoing = Vec::new();
        for e in events {
            let data = e.data.to_string();
            self.fanout.deliver(&e.user_id, e.kind, &data);
            if self.relay.is_some() {
                outgoing.push(relay::wire(&e, &data));
            }
        }
        if let Some(relay) = &self.relay {
            for w in outgoing {
                if relay.send(w).await.is_err() {
                    tracing::error!("the event relay has stopped");
                }
            }
        }
    }

    /// Opens the event stream of `user_id`, resuming after `last_event_id` (the SSE
    /// `Last-Event-ID` header) when given. Must run inside the tokio runtime.
    pub fn subscribe(&self, user_id: &str, last_event_id: Option<&str>) -> EventStream {
        EventStream::open(self.fanout.clone(), user_id, last_event_id)
    }

    /// Ends every open stream, and makes streams opened later end after `ready`: call it when
    /// the server shuts down, so a graceful shutdown does not wait for streams that never end.
    /// Clients reconnect (to another instance, or to this one when it is back).
    pub fn close(&self) {
        self.fanout.close();
    }

    /// Relays events through PostgreSQL `LISTEN/NOTIFY`: what this instance publishes is sent
    /// in batches with `pg_notify`, and what other instances send is delivered to local streams.
    ///
    /// Errors: the listener connection cannot be opened.
    pub async fn relay_through_postgres(&mut self, url: &str) -> Result<(), sqlx::Error> {
        self.relay = Some(relay::start(self.fanout.clone(), url).await?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures::{FutureExt, StreamExt};

    use super::*;

    /// One frame read back: `id`, `event`, `data`.
    #[derive(Debug)]
    struct Sse {
        id: String,
        event: String,
        data: String,
    }

    impl Sse {
        fn seq(&self) -> u64 {
            self.id.rsplit_once('-').unwrap().1.parse().unwrap()
        }
    }

    fn parse(frame: &[u8]) -> Sse {
        let text = std::str::from_utf8(frame).unwrap();
        assert!(text.ends_with("\n\n"), "{text:?}");
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .unwrap_or_default()
                .to_string()
        };
        Sse {
            id: field("id: "),
            event: field("event: "),
            data: field("data: "),
        }
    }

    /// Everything the stream has ready now (no waiting).
    fn drain(s: &mut EventStream) -> Vec<Sse> {
        let mut out = vec![];
        while let Some(Some(b)) = s.next().now_or_never() {
            out.push(parse(&b));
        }
        out
    }

    fn message(user: &str, n: u32) -> Event {
        Event {
            user_id: user.into(),
            kind: EventKind::Message,
            data: serde_json::json!({"n": n}),
        }
    }

    fn names(frames: &[Sse]) -> Vec<String> {
        frames
            .iter()
            .map(|f| match f.event.as_str() {
                "message" => f.data.clone(),
                other => other.to_string(),
            })
            .collect()
    }

    fn small(queue_len: usize, ring_len: usize, retention: Duration) -> Hub {
        Hub::with_limits(Limits {
            queue_len,
            ring_len,
            retention,
        })
    }

    #[tokio::test]
    async fn an_event_reaches_only_the_streams_of_its_user() {
        let hub = Hub::new();
        let mut a1 = hub.subscribe("a", None);
        let mut a2 = hub.subscribe("a", None);
        let mut b = hub.subscribe("b", None);
        hub.publish([message("a", 1), message("b", 2), message("a", 3)])
            .await;
        for a in [&mut a1, &mut a2] {
            assert_eq!(names(&drain(a)), ["ready", r#"{"n":1}"#, r#"{"n":3}"#]);
        }
        assert_eq!(names(&drain(&mut b)), ["ready", r#"{"n":2}"#]);
    }

    #[tokio::test]
    async fn every_frame_has_an_id_of_this_hub_and_the_ids_increase() {
        let hub = Hub::new();
        let mut s = hub.subscribe("a", None);
        for n in 0..5 {
            hub.publish([message("a", n), message("b", n)]).await;
        }
        let frames = drain(&mut s);
        assert_eq!(frames.len(), 6);
        let epoch = format!("{}-", hub.fanout.epoch());
        assert!(
            frames.iter().all(|f| f.id.starts_with(&epoch)),
            "{frames:?}"
        );
        assert!(
            frames.windows(2).all(|w| w[0].seq() < w[1].seq()),
            "{frames:?}"
        );
    }

    #[tokio::test]
    async fn a_stream_resumed_with_its_last_id_gets_exactly_what_it_missed() {
        let hub = Hub::new();
        let mut s = hub.subscribe("a", None);
        hub.publish([message("a", 1)]).await;
        let last = drain(&mut s).pop().unwrap().id;
        drop(s);
        hub.publish([message("a", 2), message("b", 9), message("a", 3)])
            .await;
        let mut again = hub.subscribe("a", Some(&last));
        assert_eq!(
            names(&drain(&mut again)),
            ["ready", r#"{"n":2}"#, r#"{"n":3}"#]
        );
        hub.publish([message("a", 4)]).await;
        assert_eq!(names(&drain(&mut again)), [r#"{"n":4}"#]);
        // A stream dropped before any event resumes from the id of its `ready`.
        let mut fresh = hub.subscribe("c", None);
        let ready = drain(&mut fresh).pop().unwrap().id;
        drop(fresh);
        hub.publish([message("c", 5)]).await;
        let mut back = hub.subscribe("c", Some(&ready));
        assert_eq!(names(&drain(&mut back)), ["ready", r#"{"n":5}"#]);
    }

    #[tokio::test]
    async fn an_unknown_or_too_old_id_gets_resync_instead_of_a_silent_gap() {
        let hub = small(16, 2, Duration::from_secs(60));
        let epoch = hub.fanout.epoch().to_string();
        for id in ["garbage", "0123456789abcdef-1", &format!("{epoch}-999")] {
            let mut s = hub.subscribe("a", Some(id));
            assert_eq!(names(&drain(&mut s)), ["ready", "resync"], "{id}");
        }
        let mut s = hub.subscribe("a", None);
        hub.publish([message("a", 1)]).await;
        let last = drain(&mut s).pop().unwrap().id;
        drop(s);
        // The ring keeps two events: the one after `last` is gone.
        hub.publish([message("a", 2), message("a", 3), message("a", 4)])
            .await;
        let mut s = hub.subscribe("a", Some(&last));
        let frames = drain(&mut s);
        assert_eq!(names(&frames), ["ready", "resync"]);
        assert_eq!(frames[1].data, r#"{"refetch":true}"#);
        hub.publish([message("a", 5)]).await;
        assert_eq!(names(&drain(&mut s)), [r#"{"n":5}"#]);
    }

    #[tokio::test]
    async fn a_stream_behind_its_queue_catches_up_from_the_ring() {
        let hub = small(2, 64, Duration::from_secs(60));
        let mut s = hub.subscribe("a", None);
        drain(&mut s);
        for n in 1..=6 {
            hub.publish([message("a", n)]).await;
        }
        let got = names(&drain(&mut s));
        let want: Vec<String> = (1..=6).map(|n| format!(r#"{{"n":{n}}}"#)).collect();
        assert_eq!(got, want);
        hub.publish([message("a", 7)]).await;
        assert_eq!(names(&drain(&mut s)), [r#"{"n":7}"#]);
    }

    #[tokio::test]
    async fn a_stream_behind_its_queue_and_the_ring_gets_resync_then_continues() {
        let hub = small(2, 2, Duration::from_secs(60));
        let mut s = hub.subscribe("a", None);
        drain(&mut s);
        for n in 1..=6 {
            hub.publish([message("a", n)]).await;
        }
        let frames = drain(&mut s);
        assert_eq!(names(&frames), [r#"{"n":1}"#, r#"{"n":2}"#, "resync"]);
        hub.publish([message("a", 7)]).await;
        assert_eq!(names(&drain(&mut s)), [r#"{"n":7}"#]);
        // The id of `resync` is a valid place to resume from.
        drop(s);
        let mut again = hub.subscribe("a", Some(&frames[2].id));
        assert_eq!(names(&drain(&mut again)), ["ready", r#"{"n":7}"#]);
    }

    #[tokio::test]
    async fn idle_users_are_forgotten_and_their_old_ids_get_resync() {
        let hub = small(16, 8, Duration::ZERO);
        let mut kept = hub.subscribe("kept", None);
        let mut gone = hub.subscribe("gone", None);
        hub.publish([message("gone", 1)]).await;
        let last = drain(&mut gone).pop().unwrap().id;
        drop(gone);
        for n in 0..100 {
            hub.publish([message(&format!("user{n}"), n)]).await;
        }
        hub.fanout.sweep_now();
        // Only the user with an open stream is remembered.
        assert_eq!(hub.fanout.users(), 1);
        let mut back = hub.subscribe("gone", Some(&last));
        assert_eq!(names(&drain(&mut back)), ["ready", "resync"]);
        hub.publish([message("kept", 2)]).await;
        assert_eq!(names(&drain(&mut kept)), ["ready", r#"{"n":2}"#]);
    }

    #[tokio::test]
    async fn lost_relayed_events_tell_every_open_stream_to_resync() {
        let hub = Hub::new();
        let mut a = hub.subscribe("a", None);
        let mut b = hub.subscribe("b", None);
        hub.publish([message("a", 1)]).await;
        let before = drain(&mut a).pop().unwrap().id;
        drain(&mut b);
        hub.fanout.resync_all();
        let ra = drain(&mut a);
        assert_eq!(names(&ra), ["resync"]);
        assert_eq!(names(&drain(&mut b)), ["resync"]);
        hub.publish([message("a", 2)]).await;
        assert_eq!(names(&drain(&mut a)), [r#"{"n":2}"#]);
        // An id from before the gap cannot be trusted; one after it can.
        assert_eq!(
            names(&drain(&mut hub.subscribe("a", Some(&before)))),
            ["ready", "resync"]
        );
        assert_eq!(
            names(&drain(&mut hub.subscribe("a", Some(&ra[0].id)))),
            ["ready", r#"{"n":2}"#]
        );
    }

    #[tokio::test]
    async fn closing_the_hub_ends_every_stream() {
        let hub = Hub::new();
        let mut s = hub.subscribe("a", None);
        hub.publish([message("a", 1)]).await;
        hub.close();
        assert_eq!(names(&drain(&mut s)), ["ready", r#"{"n":1}"#]);
        assert_eq!(s.next().now_or_never(), Some(None));
        let mut later = hub.subscribe("a", None);
        assert_eq!(names(&drain(&mut later)), ["ready"]);
        assert_eq!(later.next().now_or_never(), Some(None));
    }

    #[test]
    fn a_frame_keeps_a_line_break_of_its_data_as_another_data_line() {
        let f = fanout::frame("e", 7, "message", "{\"a\":1}\n{\"b\":2}");
        assert_eq!(
            &f[..],
            b"id: e-7\nevent: message\ndata: {\"a\":1}\ndata: {\"b\":2}\n\n"
        );
    }
}

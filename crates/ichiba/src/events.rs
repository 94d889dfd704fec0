//! Realtime events for the per-user Server-Sent Events stream: new messages, order changes and
//! notifications. Within one process they go through a broadcast channel; on PostgreSQL they also
//! go through `LISTEN/NOTIFY`, so a user connected to instance B sees a message posted on
//! instance A. Services publish only after their database transaction committed, so a client
//! never sees an event for a write that was rolled back.

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

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

/// PostgreSQL caps a NOTIFY payload at 8,000 bytes; a larger event travels as a stub carrying
/// the ids only, and the client fetches the rest.
const MAX_PAYLOAD_BYTES: usize = 7_900;

/// An event as sent to the other instances.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    origin: String,
    event: Event,
}

/// The fan-out of events: local subscribers, and other instances when a relay is attached.
#[derive(Debug, Clone)]
pub struct Hub {
    tx: broadcast::Sender<Event>,
    relay: Option<mpsc::UnboundedSender<Event>>,
    instance: String,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    /// A hub buffering up to 1,024 events for slow subscribers (who then skip ahead).
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(1024);
        Hub {
            tx,
            relay: None,
            instance: crate::db::new_id(),
        }
    }

    /// Publishes events to local subscribers and, with a relay, to the other instances.
    pub fn publish(&self, events: impl IntoIterator<Item = Event>) {
        for e in events {
            if let Some(relay) = &self.relay {
                let _ = relay.send(e.clone());
            }
            let _ = self.tx.send(e);
        }
    }

    /// A receiver of every event; the SSE handler filters by user.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    /// Relays events through PostgreSQL `LISTEN/NOTIFY`: what this instance publishes is sent
    /// with `pg_notify`, and what other instances send is delivered to local subscribers.
    ///
    /// Errors: the listener connection cannot be opened.
    pub async fn relay_through_postgres(
        &mut self,
        url: &str,
        pool: sqlx::AnyPool,
    ) -> Result<(), sqlx::Error> {
        let mut listener = sqlx::postgres::PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        let local = self.tx.clone();
        let me = self.instance.clone();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(n) => {
                        if let Ok(env) = serde_json::from_str::<Envelope>(n.payload())
                            && env.origin != me
                        {
                            let _ = local.send(env.event);
                        }
                    }
                    // PgListener reconnects by itself on the next recv; pause briefly so a
                    // database outage does not spin.
                    Err(e) => {
                        tracing::warn!(error = %e, "event listener error");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
        let origin = self.instance.clone();
        tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                let payload = envelope(&origin, event);
                if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(payload)
                    .execute(&pool)
                    .await
                {
                    tracing::warn!(error = %e, "could not relay an event");
                }
            }
        });
        self.relay = Some(tx);
        Ok(())
    }
}

fn envelope(origin: &str, event: Event) -> String {
    let full = serde_json::to_string(&Envelope {
        origin: origin.to_string(),
        event: event.clone(),
    })
    .unwrap_or_default();
    if full.len() <= MAX_PAYLOAD_BYTES {
        return full;
    }
    let stub = serde_json::json!({
        "id": event.data.get("id").cloned().unwrap_or_default(),
        "order_id": event.data.get("order_id").cloned().unwrap_or_default(),
        "thread_id": event.data.get("thread_id").cloned().unwrap_or_default(),
        "truncated": true,
    });
    serde_json::to_string(&Envelope {
        origin: origin.to_string(),
        event: Event {
            data: stub,
            ..event
        },
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_events_travel_as_stubs_with_their_ids() {
        let big = Event {
            user_id: "u".into(),
            kind: EventKind::Message,
            data: serde_json::json!({"id": "m1", "thread_id": "t1", "body": "あ".repeat(5000)}),
        };
        let p = envelope("me", big);
        assert!(p.len() <= MAX_PAYLOAD_BYTES);
        let back: Envelope = serde_json::from_str(&p).unwrap();
        assert_eq!(back.event.data["id"], "m1");
        assert_eq!(back.event.data["truncated"], true);
        let small = Event {
            user_id: "u".into(),
            kind: EventKind::Order,
            data: serde_json::json!({"id": "o1"}),
        };
        let back: Envelope = serde_json::from_str(&envelope("me", small)).unwrap();
        assert_eq!(back.event.data, serde_json::json!({"id": "o1"}));
    }
}

//! Realtime events for the per-user Server-Sent Events stream: new messages, order changes and
//! notifications. Within one process they go through a broadcast channel; services publish only
//! after their database transaction committed, so a client never sees an event for a write that
//! was rolled back.

use serde::Serialize;
use tokio::sync::broadcast;

/// What kind of event (the SSE `event:` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone)]
pub struct Event {
    /// Recipient.
    pub user_id: String,
    /// Kind.
    pub kind: EventKind,
    /// JSON payload.
    pub data: serde_json::Value,
}

/// The in-process fan-out of events.
#[derive(Debug, Clone)]
pub struct Hub {
    tx: broadcast::Sender<Event>,
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
        Hub { tx }
    }

    /// Publishes events (no subscribers is fine).
    pub fn publish(&self, events: impl IntoIterator<Item = Event>) {
        for e in events {
            let _ = self.tx.send(e);
        }
    }

    /// A receiver of every event; the SSE handler filters by user.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}

//! One open event stream: the bytes of an SSE response body. It opens with `ready`, then the
//! replayed events or a `resync`, then live frames, and a comment line every 15 seconds so
//! proxies keep an idle connection open. When the hub lets go of it (it fell behind its
//! queue, or the relay lost events) it resumes after the last frame it sent: from the ring when
//! the ring still covers that point, else with a `resync`. It never skips an event silently.
//! It ends only when the hub is closed (shutdown).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use tokio::sync::mpsc;
use tokio::time::{Interval, MissedTickBehavior};

use super::fanout::{Fanout, Frame, Resume};

/// Period of the keep-alive comment line.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The SSE body of one user's stream; unregisters itself when dropped.
pub struct EventStream {
    fanout: Arc<Fanout>,
    user_id: String,
    sub_id: u64,
    rx: mpsc::Receiver<Frame>,
    prelude: VecDeque<Frame>,
    /// The sequence number of the last frame sent (the client's `Last-Event-ID`).
    last_seq: u64,
    keep_alive: Interval,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("user_id", &self.user_id)
            .field("last_seq", &self.last_seq)
            .finish_non_exhaustive()
    }
}

impl EventStream {
    /// Opens a stream; must run inside the tokio runtime (the keep-alive timer).
    pub(super) fn open(
        fanout: Arc<Fanout>,
        user_id: &str,
        last_event_id: Option<&str>,
    ) -> EventStream {
        let from = fanout.position(last_event_id);
        let attached = fanout.attach(user_id, from);
        let mut prelude = VecDeque::with_capacity(attached.prelude.len() + 1);
        // `ready` first: the client knows the stream is live (tests wait for it).
        prelude.push_back(fanout.ready(attached.cursor));
        prelude.extend(attached.prelude);
        let mut keep_alive =
            tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
        keep_alive.set_missed_tick_behavior(MissedTickBehavior::Delay);
        EventStream {
            fanout,
            user_id: user_id.to_string(),
            sub_id: attached.sub_id,
            rx: attached.rx,
            prelude,
            last_seq: attached.cursor,
            keep_alive,
        }
    }

    /// Registers again after the last frame sent: the hub let go of this stream.
    fn resume(&mut self) {
        let attached = self
            .fanout
            .attach(&self.user_id, Resume::After(self.last_seq));
        self.fanout.detach(&self.user_id, self.sub_id);
        self.sub_id = attached.sub_id;
        self.rx = attached.rx;
        self.prelude.extend(attached.prelude);
    }
}

impl Stream for EventStream {
    type Item = Bytes;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let this = self.get_mut();
        loop {
            if let Some(f) = this.prelude.pop_front() {
                this.last_seq = f.seq;
                return Poll::Ready(Some(f.bytes));
            }
            match this.rx.poll_recv(cx) {
                Poll::Ready(Some(f)) => {
                    this.last_seq = f.seq;
                    return Poll::Ready(Some(f.bytes));
                }
                Poll::Ready(None) if this.fanout.is_closed() => return Poll::Ready(None),
                Poll::Ready(None) => this.resume(),
                Poll::Pending => break,
            }
        }
        if this.keep_alive.poll_tick(cx).is_ready() {
            return Poll::Ready(Some(Bytes::from_static(b":\n\n")));
        }
        Poll::Pending
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.fanout.detach(&self.user_id, self.sub_id);
    }
}

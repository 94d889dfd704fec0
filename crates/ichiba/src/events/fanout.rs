//! The per-user fan-out behind [`super::Hub`]: a sharded map from user id to that user's open
//! streams and a short ring of their recent events, each already framed as SSE bytes.
//!
//! Sequence numbers come from one counter per hub and are taken under the user's shard lock, so
//! a user's events are numbered in the order their streams receive them. The invariant that
//! makes `Last-Event-ID` safe: **an entry's ring holds every event of its user numbered above the
//! entry's `floor`**, and a user without an entry had no event numbered above `forgotten`. A
//! resumed stream whose last id is at or above that line gets exactly what it missed; below it
//! (the ring overflowed, the entry was evicted, the relay lost events) it gets `resync`.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use tokio::sync::mpsc;

use super::EventKind;

/// Sizes and ages the hub keeps to. The defaults suit production; tests shrink them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Events one open stream may have waiting to be written. A stream further behind is let go
    /// of; it catches up from the ring, or is told `resync` when the ring no longer covers it.
    pub queue_len: usize,
    /// Recent events kept per user for `Last-Event-ID` replay.
    pub ring_len: usize,
    /// How long recent events, and a user with no open stream, are remembered.
    pub retention: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            queue_len: 256,
            ring_len: 64,
            retention: Duration::from_secs(120),
        }
    }
}

/// Lock shards of the user map: enough that publishers and streams of different users rarely
/// meet on one lock.
const SHARDS: usize = 64;

/// Publishing sweeps idle entries and expired frames at most this often.
const SWEEP_EVERY_MS: u64 = 1_000;

/// The data of a `resync` event.
const RESYNC_DATA: &str = r#"{"refetch":true}"#;

/// One SSE frame (`id:`, `event:`, `data:`) with its sequence number; the bytes are shared by
/// the ring and every stream of the user.
#[derive(Debug, Clone)]
pub(super) struct Frame {
    pub seq: u64,
    pub bytes: Bytes,
}

#[derive(Debug)]
struct Sub {
    id: u64,
    tx: mpsc::Sender<Frame>,
}

#[derive(Debug)]
struct Entry {
    /// Every event of the user numbered above `floor` is in `ring`.
    floor: u64,
    /// Recent frames in sequence order, with the hub time they were published at.
    ring: VecDeque<(u64, Frame)>,
    subs: Vec<Sub>,
    /// Last publish, subscribe or unsubscribe (hub milliseconds).
    touched_ms: u64,
}

impl Entry {
    fn new(floor: u64, now_ms: u64) -> Entry {
        Entry {
            floor,
            ring: VecDeque::new(),
            subs: Vec::new(),
            touched_ms: now_ms,
        }
    }

    /// The highest sequence number this user's events may have had.
    fn last_seq(&self) -> u64 {
        self.ring.back().map_or(self.floor, |(_, f)| f.seq)
    }
}

/// Where a stream starts, from its `Last-Event-ID`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resume {
    /// No id: live events from now on.
    Fresh,
    /// After this sequence number of this hub.
    After(u64),
    /// An id this hub did not issue (another instance, an earlier process, garbage).
    Unknown,
}

/// A stream's place in the fan-out.
pub(super) struct Attached {
    pub sub_id: u64,
    pub rx: mpsc::Receiver<Frame>,
    /// Frames to send before the live ones: the replayed events, or one `resync`.
    pub prelude: Vec<Frame>,
    /// The sequence number the stream starts after.
    pub cursor: u64,
}

/// The fan-out state of one hub.
#[derive(Debug)]
pub(super) struct Fanout {
    /// This process's id prefix (`EPOCH-SEQ`); ids of another epoch are unknown here.
    epoch: String,
    limits: Limits,
    /// The last sequence number given out.
    seq: AtomicU64,
    /// Users without an entry had no event numbered above this.
    forgotten: AtomicU64,
    shards: Box<[Mutex<HashMap<String, Entry>>]>,
    hasher: RandomState,
    /// Retention is operational time (how long to keep memory), not deal time, so it reads the
    /// monotonic clock rather than the application's `Clock`.
    started: Instant,
    last_sweep_ms: AtomicU64,
    next_sub: AtomicU64,
    /// Set at shutdown: streams end instead of resuming.
    closed: AtomicBool,
}

impl Fanout {
    pub fn new(limits: Limits) -> Fanout {
        Fanout {
            epoch: format!("{:016x}", rand::random::<u64>()),
            limits,
            seq: AtomicU64::new(0),
            forgotten: AtomicU64::new(0),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            started: Instant::now(),
            last_sweep_ms: AtomicU64::new(0),
            next_sub: AtomicU64::new(1),
            closed: AtomicBool::new(false),
        }
    }

    /// This hub's epoch: the part of every id before the dash.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn shard(&self, user_id: &str) -> MutexGuard<'_, HashMap<String, Entry>> {
        let i = usize::try_from(self.hasher.hash_one(user_id) % SHARDS as u64).unwrap_or(0);
        // A panic while holding the lock leaves the map consistent (every mutation is a single
        // push, pop or retain), so a poisoned lock is still usable.
        self.shards[i]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads a `Last-Event-ID` value (`EPOCH-SEQ`).
    pub fn position(&self, last_event_id: Option<&str>) -> Resume {
        let Some(id) = last_event_id.map(str::trim).filter(|s| !s.is_empty()) else {
            return Resume::Fresh;
        };
        match id.rsplit_once('-') {
            Some((epoch, seq)) if epoch == self.epoch => seq
                .parse::<u64>()
                .ok()
                .filter(|s| *s <= self.seq.load(Ordering::SeqCst))
                .map_or(Resume::Unknown, Resume::After),
            _ => Resume::Unknown,
        }
    }

    /// Numbers and frames one event, keeps it in its user's ring and hands it to the user's open
    /// streams. A stream whose queue is full is let go of (it resumes from the ring).
    pub fn deliver(&self, user_id: &str, kind: EventKind, data_json: &str) {
        let now = self.now_ms();
        {
            let mut shard = self.shard(user_id);
            let entry = shard
                .entry(user_id.to_string())
                .or_insert_with(|| Entry::new(self.forgotten.load(Ordering::SeqCst), now));
            let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
            let frame = Frame {
                seq,
                bytes: frame(&self.epoch, seq, kind.as_str(), data_json),
            };
            entry.ring.push_back((now, frame.clone()));
            while entry.ring.len() > self.limits.ring_len {
                if let Some((_, old)) = entry.ring.pop_front() {
                    entry.floor = old.seq;
                }
            }
            entry.touched_ms = now;
            // Full or closed: either way this sender is dropped; a full stream drains what it
            // has, sees its queue closed and resumes after its last frame.
            entry.subs.retain(|s| s.tx.try_send(frame.clone()).is_ok());
        }
        self.maybe_sweep(now);
    }

    /// Registers a stream of `user_id` starting at `from`.
    pub fn attach(&self, user_id: &str, from: Resume) -> Attached {
        let now = self.now_ms();
        let (tx, rx) = mpsc::channel(self.limits.queue_len.max(1));
        let sub_id = self.next_sub.fetch_add(1, Ordering::Relaxed);
        let mut shard = self.shard(user_id);
        let entry = shard
            .entry(user_id.to_string())
            .or_insert_with(|| Entry::new(self.forgotten.load(Ordering::SeqCst), now));
        entry.touched_ms = now;
        let mut prelude = Vec::new();
        // Under the shard lock no event of this user can be numbered between reading the
        // counter and registering the stream, so `cursor` loses nothing and repeats nothing.
        if self.closed.load(Ordering::SeqCst) {
            // Not registered: the stream sees its queue closed and ends.
            return Attached {
                sub_id,
                rx,
                prelude: Vec::new(),
                cursor: self.seq.load(Ordering::SeqCst),
            };
        }
        let cursor = match from {
            Resume::After(after) if after >= entry.floor => {
                prelude.extend(
                    entry
                        .ring
                        .iter()
                        .filter(|(_, f)| f.seq > after)
                        .map(|(_, f)| f.clone()),
                );
                after
            }
            Resume::Fresh => self.seq.load(Ordering::SeqCst),
            Resume::After(_) | Resume::Unknown => {
                let now_seq = self.seq.load(Ordering::SeqCst);
                prelude.push(Frame {
                    seq: now_seq,
                    bytes: frame(&self.epoch, now_seq, "resync", RESYNC_DATA),
                });
                now_seq
            }
        };
        entry.subs.push(Sub { id: sub_id, tx });
        Attached {
            sub_id,
            rx,
            prelude,
            cursor,
        }
    }

    /// The `ready` frame a stream opens with.
    pub fn ready(&self, cursor: u64) -> Frame {
        Frame {
            seq: cursor,
            bytes: frame(&self.epoch, cursor, "ready", "{}"),
        }
    }

    /// Unregisters a stream.
    pub fn detach(&self, user_id: &str, sub_id: u64) {
        let now = self.now_ms();
        let mut shard = self.shard(user_id);
        if let Some(entry) = shard.get_mut(user_id) {
            entry.subs.retain(|s| s.id != sub_id);
            entry.touched_ms = now;
        }
    }

    /// Events may have been lost on their way here (the relay's listener reconnected, a batch
    /// went missing): from now on nothing before this point can be replayed, and every open
    /// stream is let go of so that it resumes into a `resync`.
    pub fn resync_all(&self) {
        // A number no event carries. Users without an entry yet start above it.
        let gap = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        self.forgotten.fetch_max(gap, Ordering::SeqCst);
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            // Taken under the shard's lock, where `deliver` numbers events: every event of this
            // shard's users is below it, including one delivered since `gap` was taken, so a
            // stream that read such an event still resumes below the floor into `resync`.
            let gap = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
            for entry in shard.values_mut() {
                entry.floor = entry.floor.max(gap);
                entry.ring.clear();
                entry.subs.clear();
            }
        }
    }

    /// Ends every open stream and every stream opened later (shutdown: clients reconnect to
    /// another instance, or to this one once it is back).
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            for entry in shard.values_mut() {
                entry.subs.clear();
            }
        }
    }

    /// Whether [`Fanout::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    fn maybe_sweep(&self, now: u64) {
        let last = self.last_sweep_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < SWEEP_EVERY_MS
            || self
                .last_sweep_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        self.sweep(now);
    }

    /// Drops frames older than the retention and forgets users with no open stream that were
    /// idle for as long, so idle users cost no memory.
    pub fn sweep(&self, now: u64) {
        let retention = u64::try_from(self.limits.retention.as_millis()).unwrap_or(u64::MAX);
        let expired = |at: u64| at.saturating_add(retention) <= now;
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            shard.retain(|_, e| {
                while e.ring.front().is_some_and(|(at, _)| expired(*at)) {
                    if let Some((_, old)) = e.ring.pop_front() {
                        e.floor = old.seq;
                    }
                }
                e.subs.retain(|s| !s.tx.is_closed());
                let idle = e.subs.is_empty() && expired(e.touched_ms);
                if idle {
                    self.forgotten.fetch_max(e.last_seq(), Ordering::SeqCst);
                }
                !idle
            });
            if shard.capacity() > 64 && shard.len() < shard.capacity() / 4 {
                shard.shrink_to_fit();
            }
        }
    }

    /// Sweeps as of now (tests).
    #[cfg(test)]
    pub fn sweep_now(&self) {
        self.sweep(self.now_ms());
    }

    /// Users the hub currently remembers (tests).
    #[cfg(test)]
    pub fn users(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }
}

/// The SSE bytes of one event. A data line break (never produced by compact JSON) is kept by
/// splitting the data over several `data:` lines, as the format requires.
pub(super) fn frame(epoch: &str, seq: u64, event: &str, data: &str) -> Bytes {
    let mut b = BytesMut::with_capacity(epoch.len() + event.len() + data.len() + 48);
    b.put_slice(b"id: ");
    b.put_slice(epoch.as_bytes());
    // Writing to a BytesMut cannot fail.
    let _ = write!(b, "-{seq}\nevent: {event}\n");
    for line in data.split('\n') {
        b.put_slice(b"data: ");
        b.put_slice(line.trim_end_matches('\r').as_bytes());
        b.put_u8(b'\n');
    }
    b.put_u8(b'\n');
    b.freeze()
}

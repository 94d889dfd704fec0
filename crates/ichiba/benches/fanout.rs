//! Fan-out benchmark: N open event streams, messages published at R per second, latency from
//! publishing to the client reading the event, events lost, and the server's memory.
//!
//! The server is the real `ichiba serve` binary in a child process (SQLite in a temporary data
//! directory, `--dev-clock`), because 10,000 client sockets and 10,000 server sockets do not fit
//! one process's descriptor limit; the clients live in this process. Both raise their soft
//! descriptor limit to the hard one (the child inherits it). Before the server starts, the
//! benchmark writes N users with sessions and N/2 direct-message threads into its database (the
//! real store functions; no password hashing), and each user opens one stream
//! (`GET /api/v1/events`). The members of a pair are each other's correspondents, so every
//! message is read by two streams. Each run has three phases on the same streams:
//!
//! 1. `http`: R messages per second for T seconds through the real API
//!    (`POST /api/v1/direct-messages`: guard screening, a database transaction, then the hub).
//! 2. `hub`: the same two events per message at the same rate through `POST /api/v1/dev/events`,
//!    which publishes straight to the hub: the fan-out without the database write.
//! 3. `ceiling`: that hook as fast as eight concurrent senders go (batches of 50 messages), for
//!    the fan-out's throughput ceiling.
//!
//! Latency runs from just before the request is sent to the client reading the frame (both ends
//! in this process, one monotonic clock). A message counts as lost unless both streams of its
//! pair read it once. The publisher is open-loop: it keeps to the schedule with at most
//! `--in-flight` requests outstanding and counts what it had to skip.
//!
//! ```text
//! cargo bench -p ichiba --bench fanout -- --streams 10000 --rate 1000 --seconds 10 --runs 3
//! ```
//!
//! Defaults: 1,000 streams, 1,000 messages/s, 10 s, one run, 256 requests in flight, a 5 s
//! ceiling phase. `--http-rate R2` gives the `http` phase a rate of its own (the database write
//! behind a message may not sustain the rate the fan-out is measured at). Under `cargo test --benches` (no `--bench` flag) it does nothing.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use ichiba::accounts::store::{insert_session, insert_user};
use ichiba::auth::hash_token;
use ichiba::clock::{Clock, SystemClock};
use ichiba::config::database_config;
use ichiba::db::{Db, new_id};
use serde_json::json;
use tokio::sync::Semaphore;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Messages one phase may number (the `ceiling` phase stops there).
const PHASE_CAPACITY: usize = 2_000_000;
/// Messages per request in the `ceiling` phase.
const CEILING_BATCH: usize = 50;
/// Concurrent senders in the `ceiling` phase.
const CEILING_SENDERS: usize = 8;

struct Options {
    streams: usize,
    rate: u64,
    /// The `http` phase's rate when it differs (the write path may not sustain `rate`).
    http_rate: Option<u64>,
    seconds: u64,
    runs: usize,
    in_flight: usize,
    ceiling_seconds: u64,
}

fn parse_options() -> Result<Option<Options>, BoxError> {
    let mut opts = Options {
        streams: 1_000,
        rate: 1_000,
        http_rate: None,
        seconds: 10,
        runs: 1,
        in_flight: 256,
        ceiling_seconds: 5,
    };
    let mut bench = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--bench" => bench = true,
            "--streams" => opts.streams = value()?.parse()?,
            "--rate" => opts.rate = value()?.parse()?,
            "--http-rate" => opts.http_rate = Some(value()?.parse()?),
            "--seconds" => opts.seconds = value()?.parse()?,
            "--runs" => opts.runs = value()?.parse()?,
            "--in-flight" => opts.in_flight = value()?.parse()?,
            "--ceiling-seconds" => opts.ceiling_seconds = value()?.parse()?,
            // Flags cargo or libtest may pass (e.g. filters); ignored.
            _ => {}
        }
    }
    if opts.streams < 2 || !opts.streams.is_multiple_of(2) {
        return Err("--streams must be an even number of at least 2".into());
    }
    Ok(bench.then_some(opts))
}

/// A seeded user: the id and a session token.
#[derive(Clone)]
struct Member {
    id: String,
    token: String,
}

/// Writes the users, their sessions and one direct thread per pair.
async fn seed(dir: &Path, streams: usize) -> Result<Vec<Member>, BoxError> {
    let config = database_config(None, dir)?;
    let db = Db::connect(&config, 2).await?;
    db.migrate().await?;
    let now = SystemClock.now_ms();
    let mut tx = db.begin().await?;
    let mut members = Vec::with_capacity(streams);
    for i in 0..streams {
        let m = Member {
            id: new_id(),
            token: format!("bench-{i}-{}", new_id()),
        };
        let email = format!("bench{i}@bench.ichiba.jp");
        // Nobody logs in with a password: the sessions are written directly.
        insert_user(&mut tx, &m.id, &email, "-", &format!("ベンチ{i}"), now).await?;
        insert_session(&mut tx, &hash_token(&m.token), &m.id, now, now + 86_400_000).await?;
        members.push(m);
    }
    for pair in members.chunks(2) {
        ichiba::messages::store::insert_thread(
            &mut tx,
            "direct",
            None,
            &pair[0].id,
            &pair[1].id,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    db.close().await;
    Ok(members)
}

/// The `ichiba serve` child process.
struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(streams: usize) -> Result<(Server, Vec<Member>), BoxError> {
        let dir = tempfile::tempdir()?;
        let members = seed(dir.path(), streams).await?;
        let log_path = dir.path().join("server.log");
        let child = Command::new(env!("CARGO_BIN_EXE_ichiba"))
            .args([
                "serve",
                "--dev-clock",
                "--addr",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(dir.path())
            .env("ICHIBA_LOG", "info,sqlx=warn,tower_http=warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path)?)
            .spawn()?;
        let mut server = Server {
            child,
            base: String::new(),
            _dir: dir,
        };
        let started = Instant::now();
        loop {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            if let Some(i) = log.find("listening on http://") {
                let rest = &log[i + "listening on ".len()..];
                server.base = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                break;
            }
            if let Some(status) = server.child.try_wait()? {
                return Err(format!("the server exited ({status}): {log}").into());
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err(format!("the server did not start: {log}").into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok((server, members))
    }

    /// CPU seconds the server has used (user + system, all threads).
    fn cpu_seconds(&self) -> f64 {
        cpu_seconds(&format!("/proc/{}/stat", self.child.id()))
    }

    /// Peak and current resident memory in MiB (`VmHWM`, `VmRSS`).
    fn memory_mib(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|kb| kb.parse::<f64>().ok())
                .map_or(0.0, |kb| kb / 1024.0)
        };
        (field("VmHWM:"), field("VmRSS:"))
    }
}

/// User + system CPU seconds from a `/proc/…/stat` file (clock ticks of USER_HZ = 100, fixed
/// by the Linux ABI).
fn cpu_seconds(stat_path: &str) -> f64 {
    let stat = std::fs::read_to_string(stat_path).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the file, 12 and 13 after the name and state.
    (ticks(11) + ticks(12)) / 100.0
}

impl Drop for Server {
    fn drop(&mut self) {
        // Our own child, by its id.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the streams record, shared by their reading tasks.
struct Shared {
    start: Instant,
    /// Send time (ns since `start`, 0 = not sent) per message number.
    sent_ns: Vec<AtomicU64>,
    /// Reads per message number.
    got: Vec<AtomicU8>,
    /// Latencies in µs, per phase.
    latencies: Vec<Mutex<Vec<u32>>>,
    /// Latest read (ns since `start`), per phase.
    last_read_ns: Vec<AtomicU64>,
    resyncs: AtomicU64,
}

impl Shared {
    fn now_ns(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// One SSE frame read by a client at `now`.
    fn read(&self, frame: &[u8], now: u64) {
        if contains(frame, b"\nevent: resync\n") {
            self.resyncs.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if !contains(frame, b"\nevent: message\n") {
            return;
        }
        let Some(seq) = message_number(frame) else {
            return;
        };
        let Some(got) = self.got.get(seq) else {
            return;
        };
        got.fetch_add(1, Ordering::Relaxed);
        let sent = self.sent_ns[seq].load(Ordering::Relaxed);
        let phase = seq / PHASE_CAPACITY;
        if sent > 0 {
            let us = u32::try_from(now.saturating_sub(sent) / 1_000).unwrap_or(u32::MAX);
            if let Ok(mut l) = self.latencies[phase].lock() {
                l.push(us);
            }
        }
        self.last_read_ns[phase].fetch_max(now, Ordering::Relaxed);
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The number in a body `計測{n}番`.
fn message_number(frame: &[u8]) -> Option<usize> {
    let marker = "計測".as_bytes();
    let at = frame.windows(marker.len()).position(|w| w == marker)? + marker.len();
    let digits: &[u8] = &frame[at..];
    let end = digits.iter().position(|b| !b.is_ascii_digit())?;
    std::str::from_utf8(&digits[..end]).ok()?.parse().ok()
}

/// Opens one user's stream, waits for `ready`, then reads it in a task until aborted.
async fn open_stream(
    client: &reqwest::Client,
    base: &str,
    member: &Member,
    shared: Arc<Shared>,
) -> Result<tokio::task::JoinHandle<()>, BoxError> {
    let mut res = client
        .get(format!("{base}/api/v1/events"))
        .bearer_auth(&member.token)
        .send()
        .await?
        .error_for_status()?;
    let mut buf: Vec<u8> = Vec::new();
    while !contains(&buf, b"event: ready") {
        let chunk = res.chunk().await?.ok_or("the stream ended before ready")?;
        buf.extend_from_slice(&chunk);
    }
    buf.clear();
    Ok(tokio::spawn(async move {
        while let Ok(Some(chunk)) = res.chunk().await {
            let now = shared.now_ns();
            buf.extend_from_slice(&chunk);
            while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
                shared.read(&buf[..end + 2], now);
                buf.drain(..end + 2);
            }
        }
    }))
}

/// How a phase publishes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    /// `POST /api/v1/direct-messages`.
    Http,
    /// `POST /api/v1/dev/events`.
    Hub,
}

/// What the publisher saw in one phase.
#[derive(Default)]
struct Published {
    ok: u64,
    errors: u64,
    skipped: u64,
    seconds: f64,
    /// Request round trips in µs.
    requests: Vec<u32>,
}

struct Publisher {
    client: reqwest::Client,
    base: String,
    members: Vec<Member>,
    shared: Arc<Shared>,
}

impl Publisher {
    /// Publishes messages `first..first + count` (one request each, or `count` in one request
    /// through the hook); returns how many went through.
    async fn send(&self, via: Via, first: usize, count: usize) -> bool {
        let pairs = self.members.len() / 2;
        let now = self.shared.now_ns();
        let req = match via {
            Via::Http => {
                let p = first % pairs;
                let (from, to) = (&self.members[2 * p], &self.members[2 * p + 1]);
                self.client
                    .post(format!("{}/api/v1/direct-messages", self.base))
                    .bearer_auth(&from.token)
                    .json(&json!({"to_user_id": to.id, "body": format!("計測{first}番")}))
            }
            Via::Hub => {
                let mut events = Vec::with_capacity(count * 2);
                for seq in first..first + count {
                    let p = seq % pairs;
                    let data = json!({"body": format!("計測{seq}番")});
                    for m in [&self.members[2 * p], &self.members[2 * p + 1]] {
                        events.push(json!({"user_id": m.id, "kind": "message", "data": data}));
                    }
                }
                self.client
                    .post(format!("{}/api/v1/dev/events", self.base))
                    .json(&json!({"events": events}))
            }
        };
        for seq in first..first + count {
            self.shared.sent_ns[seq].store(now, Ordering::Relaxed);
        }
        let ok = matches!(req.send().await, Ok(r) if r.status().is_success());
        if !ok {
            for seq in first..first + count {
                self.shared.sent_ns[seq].store(0, Ordering::Relaxed);
            }
        }
        ok
    }

    /// `rate` messages per second for `seconds`, open loop, at most `in_flight` outstanding.
    async fn at_rate(
        self: &Arc<Self>,
        via: Via,
        first: usize,
        rate: u64,
        seconds: u64,
        in_flight: usize,
    ) -> Published {
        let total = usize::try_from(rate * seconds)
            .unwrap_or(usize::MAX)
            .min(PHASE_CAPACITY);
        let limit = Arc::new(Semaphore::new(in_flight));
        let report = Arc::new(Mutex::new(Published::default()));
        let started = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        let mut next = 0usize;
        while next < total {
            tick.tick().await;
            // Catch up with the schedule, whatever the timer's resolution.
            let due = usize::try_from((started.elapsed().as_secs_f64() * rate as f64) as u64 + 1)
                .unwrap_or(usize::MAX)
                .min(total);
            while next < due {
                let seq = first + next;
                next += 1;
                let Ok(permit) = limit.clone().try_acquire_owned() else {
                    if let Ok(mut r) = report.lock() {
                        r.skipped += 1;
                    }
                    continue;
                };
                let (this, report) = (self.clone(), report.clone());
                tokio::spawn(async move {
                    let t = Instant::now();
                    let ok = this.send(via, seq, 1).await;
                    let us = u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX);
                    if let Ok(mut r) = report.lock() {
                        if ok {
                            r.ok += 1;
                        } else {
                            r.errors += 1;
                        }
                        r.requests.push(us);
                    }
                    drop(permit);
                });
            }
        }
        // Every request has finished once all permits are back.
        let _all = limit.acquire_many(in_flight as u32).await;
        let mut r = std::mem::take(&mut *report.lock().unwrap_or_else(|e| e.into_inner()));
        r.seconds = started.elapsed().as_secs_f64();
        r
    }

    /// The hook as fast as `CEILING_SENDERS` senders go, for `seconds`.
    async fn flat_out(self: &Arc<Self>, first: usize, seconds: u64) -> Published {
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let stop = started + Duration::from_secs(seconds);
        let mut tasks = vec![];
        for _ in 0..CEILING_SENDERS {
            let (this, next) = (self.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                let mut r = Published::default();
                while Instant::now() < stop {
                    let n = next.fetch_add(CEILING_BATCH, Ordering::Relaxed);
                    if n + CEILING_BATCH > PHASE_CAPACITY {
                        break;
                    }
                    let t = Instant::now();
                    if this.send(Via::Hub, first + n, CEILING_BATCH).await {
                        r.ok += CEILING_BATCH as u64;
                    } else {
                        r.errors += CEILING_BATCH as u64;
                    }
                    r.requests
                        .push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                }
                r
            }));
        }
        let mut all = Published::default();
        for t in tasks {
            if let Ok(r) = t.await {
                all.ok += r.ok;
                all.errors += r.errors;
                all.requests.extend(r.requests);
            }
        }
        all.seconds = started.elapsed().as_secs_f64();
        all
    }
}

/// The results of one phase.
struct PhaseResult {
    name: &'static str,
    published: Published,
    delivered: u64,
    lost: u64,
    duplicated: u64,
    resyncs: u64,
    p50_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    max_ms: f64,
    /// Reads per second from the phase's start to its last read.
    reads_per_s: f64,
    hwm_mib: f64,
    rss_mib: f64,
    /// Server CPU seconds spent in the phase, and this process's (the clients').
    server_cpu_s: f64,
    client_cpu_s: f64,
}

fn quantile_ms(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    f64::from(sorted[i]) / 1_000.0
}

/// Waits until every published message was read twice, or reads stop coming for 3 s.
async fn settle(shared: &Shared, range: std::ops::Range<usize>) -> (u64, u64, u64) {
    let count = |shared: &Shared| {
        let (mut delivered, mut lost, mut dup) = (0u64, 0u64, 0u64);
        for seq in range.clone() {
            if shared.sent_ns[seq].load(Ordering::Relaxed) == 0 {
                continue;
            }
            let got = u64::from(shared.got[seq].load(Ordering::Relaxed));
            delivered += got.min(2);
            lost += 2u64.saturating_sub(got);
            dup += got.saturating_sub(2);
        }
        (delivered, lost, dup)
    };
    let mut last = count(shared);
    let mut quiet = Instant::now();
    while last.1 > 0 && quiet.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = count(shared);
        if now.0 != last.0 {
            quiet = Instant::now();
        }
        last = now;
    }
    last
}

async fn phase(
    name: &'static str,
    index: usize,
    publisher: &Arc<Publisher>,
    server: &Server,
    opts: &Options,
) -> PhaseResult {
    let shared = &publisher.shared;
    let first = index * PHASE_CAPACITY;
    let resyncs_before = shared.resyncs.load(Ordering::Relaxed);
    let (server_cpu, client_cpu) = (server.cpu_seconds(), cpu_seconds("/proc/self/stat"));
    let start_ns = shared.now_ns();
    let published = match index {
        0 => {
            publisher
                .at_rate(
                    Via::Http,
                    first,
                    opts.http_rate.unwrap_or(opts.rate),
                    opts.seconds,
                    opts.in_flight,
                )
                .await
        }
        1 => {
            publisher
                .at_rate(Via::Hub, first, opts.rate, opts.seconds, opts.in_flight)
                .await
        }
        _ => publisher.flat_out(first, opts.ceiling_seconds).await,
    };
    let (delivered, lost, duplicated) = settle(shared, first..first + PHASE_CAPACITY).await;
    let mut lat = std::mem::take(
        &mut *shared.latencies[index]
            .lock()
            .unwrap_or_else(|e| e.into_inner()),
    );
    lat.sort_unstable();
    let span_s = (shared.last_read_ns[index]
        .load(Ordering::Relaxed)
        .saturating_sub(start_ns)) as f64
        / 1e9;
    let (hwm_mib, rss_mib) = server.memory_mib();
    let server_cpu_s = server.cpu_seconds() - server_cpu;
    let client_cpu_s = cpu_seconds("/proc/self/stat") - client_cpu;
    PhaseResult {
        name,
        published,
        delivered,
        lost,
        duplicated,
        resyncs: shared.resyncs.load(Ordering::Relaxed) - resyncs_before,
        p50_ms: quantile_ms(&lat, 0.50),
        p99_ms: quantile_ms(&lat, 0.99),
        p999_ms: quantile_ms(&lat, 0.999),
        max_ms: lat.last().map_or(f64::NAN, |m| f64::from(*m) / 1_000.0),
        reads_per_s: if span_s > 0.0 {
            delivered as f64 / span_s
        } else {
            0.0
        },
        hwm_mib,
        rss_mib,
        server_cpu_s,
        client_cpu_s,
    }
}

async fn run(opts: &Options, run_no: usize) -> Result<Vec<PhaseResult>, BoxError> {
    let t = Instant::now();
    let (server, members) = Server::start(opts.streams).await?;
    eprintln!(
        "run {run_no}: seeded {} users and started the server at {} in {:.1} s",
        members.len(),
        server.base,
        t.elapsed().as_secs_f64()
    );
    let phases = 3;
    let shared = Arc::new(Shared {
        start: Instant::now(),
        sent_ns: (0..phases * PHASE_CAPACITY)
            .map(|_| AtomicU64::new(0))
            .collect(),
        got: (0..phases * PHASE_CAPACITY)
            .map(|_| AtomicU8::new(0))
            .collect(),
        latencies: (0..phases).map(|_| Mutex::new(Vec::new())).collect(),
        last_read_ns: (0..phases).map(|_| AtomicU64::new(0)).collect(),
        resyncs: AtomicU64::new(0),
    });
    let t = Instant::now();
    let streams_client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let readers: Vec<_> = futures::stream::iter(&members)
        .map(|m| open_stream(&streams_client, &server.base, m, shared.clone()))
        .buffer_unordered(200)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let (hwm, rss) = server.memory_mib();
    eprintln!(
        "run {run_no}: {} streams open in {:.1} s; server VmRSS {rss:.0} MiB (VmHWM {hwm:.0} MiB)",
        readers.len(),
        t.elapsed().as_secs_f64()
    );
    let publisher = Arc::new(Publisher {
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(opts.in_flight)
            .build()?,
        base: server.base.clone(),
        members,
        shared,
    });
    let mut results = vec![];
    for (i, name) in ["http", "hub", "ceiling"].into_iter().enumerate() {
        let r = phase(name, i, &publisher, &server, opts).await;
        eprintln!("{}", row(opts, run_no, &r));
        results.push(r);
    }
    for r in readers {
        r.abort();
    }
    Ok(results)
}

/// Server CPU per read event, in µs: the request handling and, for `http`, the database write
/// included.
fn server_us_per_read(r: &PhaseResult) -> f64 {
    if r.delivered == 0 {
        return f64::NAN;
    }
    r.server_cpu_s * 1e6 / r.delivered as f64
}

fn row(opts: &Options, run_no: usize, r: &PhaseResult) -> String {
    let mut req = r.published.requests.clone();
    req.sort_unstable();
    format!(
        "| {} | {run_no} | {} | {:.0} | {} | {} | {:.1} / {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} | {} | {:.0} | {:.1} / {:.1} | {:.1} | {:.0} / {:.0} |",
        opts.streams,
        r.name,
        r.published.ok as f64 / r.published.seconds,
        r.published.errors,
        r.published.skipped,
        quantile_ms(&req, 0.5),
        quantile_ms(&req, 0.99),
        r.p50_ms,
        r.p99_ms,
        r.p999_ms,
        r.max_ms,
        r.delivered,
        r.lost,
        r.resyncs + r.duplicated,
        r.reads_per_s,
        r.server_cpu_s,
        r.client_cpu_s,
        server_us_per_read(r),
        r.rss_mib,
        r.hwm_mib,
    )
}

/// Median (min–max), with `digits` decimals.
fn spread_with(values: impl Iterator<Item = f64>, digits: usize) -> String {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return "-".into();
    }
    v.sort_by(f64::total_cmp);
    let (mid, lo, hi) = (v[v.len() / 2], v[0], v[v.len() - 1]);
    format!("{mid:.digits$} ({lo:.digits$}–{hi:.digits$})")
}

fn spread(values: impl Iterator<Item = f64>) -> String {
    spread_with(values, 1)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let Some(opts) = parse_options()? else {
        eprintln!("fanout: run with `cargo bench -p ichiba --bench fanout`");
        return Ok(());
    };
    sqlx::any::install_default_drivers();
    // The soft descriptor limit up to the hard one; the server inherits it.
    let fds = rlimit::increase_nofile_limit(u64::MAX)?;
    eprintln!(
        "fanout: {} streams, {} messages/s (http phase {}) for {} s, {} run(s); descriptor limit {fds}",
        opts.streams,
        opts.rate,
        opts.http_rate.unwrap_or(opts.rate),
        opts.seconds,
        opts.runs
    );
    let mut all = vec![];
    for run_no in 1..=opts.runs {
        all.push(run(&opts, run_no).await?);
    }
    let mut out = String::new();
    writeln!(
        out,
        "\n| streams | run | phase | published msg/s | errors | skipped | request p50 / p99 ms | p50 ms | p99 ms | p99.9 ms | max ms | reads | lost | resync+dup | reads/s | CPU s server / clients | server CPU µs per read | server RSS / peak MiB |"
    )?;
    writeln!(
        out,
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    for (i, run) in all.iter().enumerate() {
        for r in run {
            writeln!(out, "{}", row(&opts, i + 1, r))?;
        }
    }
    writeln!(out, "\nMedian (min–max) over {} run(s):\n", opts.runs)?;
    writeln!(
        out,
        "| phase | p50 ms | p99 ms | published msg/s | reads/s | lost | server CPU µs per read | peak RSS MiB |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|")?;
    for (i, name) in ["http", "hub", "ceiling"].iter().enumerate() {
        let of = |f: &dyn Fn(&PhaseResult) -> f64| spread(all.iter().map(|run| f(&run[i])));
        writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} | {} | {} |",
            of(&|r| r.p50_ms),
            of(&|r| r.p99_ms),
            of(&|r| r.published.ok as f64 / r.published.seconds),
            of(&|r| r.reads_per_s),
            of(&|r| r.lost as f64),
            of(&server_us_per_read),
            of(&|r| r.hwm_mib),
        )?;
    }
    writeln!(
        out,
        "\nRatios: p99 http / hub {}; http published msg/s / ceiling msg/s (reads/s ÷ 2) {}",
        spread_with(all.iter().map(|run| run[0].p99_ms / run[1].p99_ms), 2),
        spread_with(
            all.iter().map(|run| {
                (run[0].published.ok as f64 / run[0].published.seconds) / (run[2].reads_per_s / 2.0)
            }),
            3
        ),
    )?;
    println!("{out}");
    Ok(())
}

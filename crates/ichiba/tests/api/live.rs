//! The live event stream (`GET /api/v1/events`, the web app's `/events`): events reach only their
//! user, every event has an increasing `id`, `Last-Event-ID` replays what a client missed, an id
//! the server cannot resume from gets `resync`, a client that falls behind gets `resync` rather
//! than a gap, and on PostgreSQL a burst posted on one instance reaches a stream on another whole.

use std::collections::HashSet;

use futures::StreamExt;
use ichiba::events::{Event, EventKind};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, TestUser, cookies};

/// One SSE frame as the client reads it.
#[derive(Debug, Clone)]
struct Frame {
    id: String,
    event: String,
    data: String,
}

impl Frame {
    /// The number after the dash of `EPOCH-SEQ`.
    fn seq(&self) -> u64 {
        let (_, seq) = self.id.rsplit_once('-').expect("an EPOCH-SEQ id");
        seq.parse().expect("a numeric sequence")
    }
}

/// An open stream, parsed into frames as it is read.
struct Live {
    res: reqwest::Response,
    /// Bytes read and not yet parsed: a chunk may end inside a character, a frame never does.
    buf: Vec<u8>,
    frames: Vec<Frame>,
}

impl Live {
    /// Opens `/api/v1/events` on the instance at `base` and waits for `ready`.
    async fn open(app: &TestApp, base: &str, user: &TestUser, last: Option<&str>) -> Live {
        let mut req = app
            .http
            .get(format!("{base}/api/v1/events"))
            .bearer_auth(&user.token);
        if let Some(id) = last {
            req = req.header("Last-Event-ID", id);
        }
        Self::start(req).await
    }

    /// Opens the web app's `/events` with the session cookie and waits for `ready`.
    async fn open_web(app: &TestApp, user: &TestUser, last: Option<&str>) -> Live {
        let mut req = app
            .http
            .get(app.url("/events"))
            .header("Cookie", cookies(Some(&user.token)));
        if let Some(id) = last {
            req = req.header("Last-Event-ID", id);
        }
        Self::start(req).await
    }

    async fn start(req: reqwest::RequestBuilder) -> Live {
        let res = req.send().await.expect("request");
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        let mut live = Live {
            res,
            buf: Vec::new(),
            frames: vec![],
        };
        live.until(|f| f.event == "ready").await;
        live
    }

    /// Reads until a frame satisfies `done` and returns it; a guard against a hang, not a timing
    /// assertion.
    async fn until(&mut self, mut done: impl FnMut(&Frame) -> bool) -> Frame {
        let read = async {
            let mut checked = 0;
            loop {
                if let Some(f) = self.frames[checked..].iter().find(|f| done(f)) {
                    return f.clone();
                }
                checked = self.frames.len();
                let chunk = self.res.chunk().await.expect("read").expect("stream open");
                self.buf.extend_from_slice(&chunk);
                while let Some(end) = self.buf.windows(2).position(|w| w == b"\n\n") {
                    let block: Vec<u8> = self.buf.drain(..end + 2).collect();
                    if let Some(f) = parse(std::str::from_utf8(&block).expect("UTF-8 frame")) {
                        self.frames.push(f);
                    }
                }
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(30), read)
            .await
            .expect("the awaited event arrives")
    }

    /// Reads until a frame's data contains `text`.
    async fn until_data(&mut self, text: &str) -> Frame {
        self.until(|f| f.data.contains(text)).await
    }

    fn saw(&self, text: &str) -> bool {
        self.frames.iter().any(|f| f.data.contains(text))
    }
}

/// A frame block (`id:`, `event:`, `data:` lines); `None` for a keep-alive comment.
fn parse(block: &str) -> Option<Frame> {
    let mut f = Frame {
        id: String::new(),
        event: String::new(),
        data: String::new(),
    };
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("id: ") {
            f.id = v.to_string();
        } else if let Some(v) = line.strip_prefix("event: ") {
            f.event = v.to_string();
        } else if let Some(v) = line.strip_prefix("data: ") {
            f.data.push_str(v);
        }
    }
    (!f.event.is_empty()).then_some(f)
}

async fn direct(app: &TestApp, base: &str, from: &TestUser, to: &TestUser, body: &str) {
    let r = app
        .http
        .post(format!("{base}/api/v1/direct-messages"))
        .bearer_auth(&from.token)
        .json(&json!({"to_user_id": to.id, "body": body}))
        .send()
        .await
        .expect("request");
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
}

#[tokio::test]
async fn an_event_reaches_only_the_streams_of_its_user() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(3000).await;
    let stranger = app.user("stranger").await;
    let mut theirs = Live::open(&app, &app.base, &buyer, None).await;
    let mut mine = Live::open(&app, &app.base, &stranger, None).await;
    app.post(
        &format!("/api/v1/orders/{id}/messages"),
        Some(&seller.token),
        json!({"body": "取引のご連絡です"}),
    )
    .await;
    theirs.until_data("取引のご連絡です").await;
    // Published after the talk-room message, the stranger's own message arrives after it would
    // have, had it been sent to the stranger at all.
    direct(&app, &app.base, &stranger, &seller, "はじめまして").await;
    mine.until_data("はじめまして").await;
    assert!(!mine.saw("取引のご連絡です"), "{:?}", mine.frames);
    assert!(!theirs.saw("はじめまして"), "{:?}", theirs.frames);
}

#[tokio::test]
async fn every_event_has_an_id_and_the_ids_increase() {
    let app = TestApp::spawn().await;
    let (seller, buyer, id) = app.deal(3000).await;
    let mut live = Live::open(&app, &app.base, &buyer, None).await;
    for n in ["一通目", "二通目", "三通目"] {
        app.post(
            &format!("/api/v1/orders/{id}/messages"),
            Some(&seller.token),
            json!({"body": n}),
        )
        .await;
    }
    live.until_data("三通目").await;
    let kinds: HashSet<&str> = live.frames.iter().map(|f| f.event.as_str()).collect();
    assert!(
        kinds.contains("message") && kinds.contains("order"),
        "{kinds:?}"
    );
    let events: Vec<&Frame> = live.frames.iter().filter(|f| f.event != "ready").collect();
    assert!(events.len() >= 4, "{events:?}");
    assert!(
        events.windows(2).all(|w| w[0].seq() < w[1].seq()),
        "{events:?}"
    );
    assert!(live.frames[0].seq() < events[0].seq());
}

#[tokio::test]
async fn a_stream_reopened_with_last_event_id_replays_what_it_missed() {
    let app = TestApp::spawn().await;
    let (seller, buyer) = (app.user("seller").await, app.user("buyer").await);
    let mut live = Live::open(&app, &app.base, &buyer, None).await;
    direct(&app, &app.base, &seller, &buyer, "一通目").await;
    let last = live.until_data("一通目").await.id;
    drop(live);
    direct(&app, &app.base, &seller, &buyer, "二通目").await;
    direct(&app, &app.base, &seller, &buyer, "三通目").await;
    let mut again = Live::open(&app, &app.base, &buyer, Some(&last)).await;
    let third = again.until_data("三通目").await;
    assert!(again.saw("二通目"), "{:?}", again.frames);
    assert!(!again.saw("一通目"), "{:?}", again.frames);
    assert!(again.frames.iter().all(|f| f.event != "resync"));
    // The web app's stream resumes the same way.
    direct(&app, &app.base, &seller, &buyer, "四通目").await;
    let mut web = Live::open_web(&app, &buyer, Some(&third.id)).await;
    web.until_data("四通目").await;
    assert!(!web.saw("三通目"), "{:?}", web.frames);
}

#[tokio::test]
async fn an_id_the_server_cannot_resume_from_gets_resync() {
    let app = TestApp::spawn().await;
    let buyer = app.user("buyer").await;
    for last in ["nonsense", "0123456789abcdef-3"] {
        let mut live = Live::open(&app, &app.base, &buyer, Some(last)).await;
        let resync = live.until(|f| f.event == "resync").await;
        assert_eq!(resync.data, r#"{"refetch":true}"#);
        assert!(!resync.id.is_empty());
        let mut web = Live::open_web(&app, &buyer, Some(last)).await;
        web.until(|f| f.event == "resync").await;
    }
    // An id that is not even visible ASCII is unknown too, not absent.
    let req = app
        .http
        .get(format!("{}/api/v1/events", app.base))
        .bearer_auth(&buyer.token)
        .header(
            "Last-Event-ID",
            reqwest::header::HeaderValue::from_bytes(b"\xff-1").expect("obs-text header"),
        );
    let mut live = Live::start(req).await;
    live.until(|f| f.event == "resync").await;
}

#[tokio::test]
async fn a_client_that_falls_behind_gets_resync_and_never_a_silent_gap() {
    let app = TestApp::spawn().await;
    let buyer = app.user("buyer").await;
    let mut live = Live::open(&app, &app.base, &buyer, None).await;
    // 40 MB of events while the client reads nothing: far more than the socket buffers, the
    // stream's queue and the replay ring hold.
    let pad = "x".repeat(8_000);
    for n in 1..=5_000u32 {
        let event = Event {
            user_id: buyer.id.clone(),
            kind: EventKind::Message,
            data: json!({"n": n, "pad": pad}),
        };
        app.state.hub.publish([event]).await;
    }
    live.until(|f| f.event == "resync" || f.data.contains(r#""n":5000,"#))
        .await;
    let end = Event {
        user_id: buyer.id.clone(),
        kind: EventKind::Message,
        data: json!({"n": 0, "end": true}),
    };
    app.state.hub.publish([end]).await;
    live.until(|f| f.data.contains(r#""end":true"#)).await;
    let mut expected = 1;
    let mut resyncs = 0;
    for f in &live.frames {
        match f.event.as_str() {
            "resync" => {
                resyncs += 1;
                expected = 0;
            }
            "message" => {
                let v: serde_json::Value = serde_json::from_str(&f.data).unwrap();
                let n = v["n"].as_u64().unwrap();
                // After a resync any later event may come next; otherwise exactly the next one.
                assert!(expected == 0 || n == expected, "gap before {n}: {expected}");
                expected = n + 1;
            }
            _ => {}
        }
    }
    assert!(resyncs >= 1, "the client fell behind");
}

#[tokio::test]
async fn on_postgres_a_burst_on_one_instance_reaches_a_stream_on_another_whole() {
    let app = TestApp::spawn().await;
    if !app.on_postgres() {
        // Instances share events through PostgreSQL LISTEN/NOTIFY; SQLite runs one instance.
        eprintln!("single-instance backend: cross-instance relay not applicable");
        return;
    }
    let (seller, buyer) = (app.user("seller").await, app.user("buyer").await);
    let other = app.sibling().await;
    let mut live = Live::open(&app, &other, &buyer, None).await;
    let bodies: Vec<String> = (0..500).map(|n| format!("連続送信 {n} 通目")).collect();
    // The first message opens the thread; the rest go sixteen at a time.
    direct(&app, &app.base, &seller, &buyer, &bodies[0]).await;
    futures::stream::iter(&bodies[1..])
        .for_each_concurrent(16, |b| direct(&app, &app.base, &seller, &buyer, b))
        .await;
    let mut missing: HashSet<&str> = bodies.iter().map(String::as_str).collect();
    live.until(|f| {
        assert_ne!(f.event, "resync", "events were lost on the way");
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&f.data)
            && let Some(body) = v["body"].as_str()
        {
            missing.remove(body);
        }
        missing.is_empty()
    })
    .await;
    let ids: Vec<u64> = live.frames.iter().map(Frame::seq).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
}

#[tokio::test]
async fn on_postgres_a_stream_is_told_to_resync_when_the_relay_listener_reconnects() {
    let app = TestApp::spawn().await;
    if !app.on_postgres() {
        eprintln!("single-instance backend: cross-instance relay not applicable");
        return;
    }
    let (seller, buyer) = (app.user("seller").await, app.user("buyer").await);
    let other = app.sibling().await;
    let mut live = Live::open(&app, &app.base, &buyer, None).await;
    // Notifications sent while a listener is away are gone for good: end every listening
    // session of this database, as a restart or a network cut would.
    sqlx::query(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .execute(app.state.db.pool())
    .await
    .expect("terminate the listeners");
    live.until(|f| f.event == "resync").await;
    // Listening again: the next message from the other instance arrives.
    direct(&app, &other, &seller, &buyer, "再接続後のメッセージ").await;
    live.until_data("再接続後のメッセージ").await;
}

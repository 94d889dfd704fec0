//! What a client may hold of the server: a request's headers must arrive within the header
//! timeout (slow-header clients are dropped, idle keep-alive connections too), a stalled body
//! fails, and beyond the connection limit the server stops accepting until a connection closes.

use std::time::Duration;

use ichiba::server::Limits;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::TestApp;

fn host_port(base: &str) -> String {
    base.trim_start_matches("http://").to_string()
}

/// Reads until the server closes the connection; what it sent, or `None` if it kept it open for
/// `patience`.
async fn read_until_closed(stream: &mut TcpStream, patience: Duration) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let read_all = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(patience, read_all).await.ok()?;
    Some(String::from_utf8_lossy(&got).into_owned())
}

/// A server with `limits` beside a fresh app (kept alive with it), its base URL, and a raw
/// connection to it that has sent `bytes`.
async fn raw_request(limits: Limits, bytes: &[u8]) -> (TestApp, String, TcpStream) {
    let app = TestApp::spawn().await;
    let base = app.sibling_with(limits).await;
    let mut conn = TcpStream::connect(host_port(&base)).await.expect("connect");
    conn.write_all(bytes).await.expect("write");
    (app, base, conn)
}

#[tokio::test]
async fn a_client_that_sends_its_headers_too_slowly_is_disconnected() {
    let (_app, base, mut slow) = raw_request(
        Limits {
            header_read_timeout: Duration::from_secs(1),
            ..Limits::default()
        },
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n",
    )
    .await;
    // The header never ends: the server must hang up on its own (it did not before: the
    // connection stayed open for as long as the client liked).
    let answer = read_until_closed(&mut slow, Duration::from_secs(20)).await;
    assert!(answer.is_some(), "the server kept a half-sent request open");
    assert!(!answer.unwrap_or_default().contains("200 OK"));

    // A client that sends its request in time is answered as usual.
    let ok = reqwest::get(format!("{base}/healthz")).await.expect("get");
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let (_app, _base, mut conn) = raw_request(
        Limits {
            header_read_timeout: Duration::from_secs(1),
            ..Limits::default()
        },
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    let answer = read_until_closed(&mut conn, Duration::from_secs(20))
        .await
        .expect("closed after the idle period");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn a_stalled_request_body_fails_instead_of_holding_the_handler() {
    let (_app, _base, mut conn) = raw_request(
        Limits {
            body_read_timeout: Duration::from_secs(1),
            ..Limits::default()
        },
        b"POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":",
    )
    .await;
    let answer = read_until_closed(&mut conn, Duration::from_secs(20))
        .await
        .expect("answered and closed");
    let status: u16 = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    assert!(
        (400..500).contains(&status),
        "a stalled body is the client's fault: {answer}"
    );
}

#[tokio::test]
async fn beyond_the_connection_limit_new_clients_wait_for_a_free_slot() {
    let app = TestApp::spawn().await;
    let base = app
        .sibling_with(Limits {
            max_connections: 3,
            header_read_timeout: Duration::from_secs(60),
            ..Limits::default()
        })
        .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(host_port(&base)).await.expect("connect"));
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let refused = client
        .get(format!("{base}/healthz"))
        .timeout(Duration::from_millis(700))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "a fourth connection was served while three were open: {refused:?}"
    );
    drop(held.pop());
    let served = client
        .get(format!("{base}/healthz"))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .expect("served once a slot is free");
    assert_eq!(served.status(), StatusCode::OK);
}

//! The HTTP server under the router: the accept loop, with a limit on open connections, a time
//! limit for reading a request's headers (which also closes idle keep-alive connections) and for
//! each part of its body, a raised open-file limit, and graceful shutdown. `axum::serve` has none
//! of these, so a few thousand clients that send their headers one byte at a time would take every
//! file descriptor and the server would stop answering.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::{Service, ServiceExt};
use tower_http::timeout::RequestBodyTimeoutLayer;

/// File descriptors kept free for the database, attachments and logs when the connection limit
/// is derived from the open-file limit.
const RESERVED_FDS: u64 = 256;

/// How long shutdown waits for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How much the server lets clients hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at most (each live event stream is one); beyond it the server stops
    /// accepting until one closes, and the kernel queues the rest.
    pub max_connections: usize,
    /// A client must send a request's whole header within this time, and an idle keep-alive
    /// connection is closed after it.
    pub header_read_timeout: Duration,
    /// A request body that sends nothing for this long fails (the handler sees a read error).
    pub body_read_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 16_384,
            header_read_timeout: Duration::from_secs(15),
            body_read_timeout: Duration::from_secs(30),
        }
    }
}

/// Raises the soft open-file limit to the hard one and returns the connection limit that fits
/// in it: `wanted`, or less when the process may not open that many files.
pub fn fit_to_open_file_limit(wanted: usize) -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read or raise the open-file limit");
            return wanted;
        }
    };
    let fits = usize::try_from(limit.saturating_sub(RESERVED_FDS).max(16)).unwrap_or(usize::MAX);
    if fits < wanted {
        tracing::warn!(
            open_file_limit = limit,
            max_connections = fits,
            "the open-file limit allows fewer connections than configured"
        );
    }
    wanted.min(fits)
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes, then lets the
/// requests in flight finish. Live event streams end at shutdown (clients reconnect).
///
/// Errors: only when the listener itself fails for good; a failed accept (such as running out of
/// file descriptors) is logged and retried.
pub async fn run(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let router = router.layer(RequestBodyTimeoutLayer::new(limits.body_read_timeout));
    let mut make_service = router.into_make_service_with_connect_info::<SocketAddr>();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let (stream, remote) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, or the peer gave up before we accepted: pause
                    // briefly rather than spin, then go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let service = match make_service.call(remote).await {
            Ok(s) => s,
            Err(never) => match never {},
        };
        let hyper_service =
            hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                service.clone().oneshot(request.map(axum::body::Body::new))
            });
        let builder = Arc::clone(&builder);
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), hyper_service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %remote, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    // Live event streams never end by themselves: give the other requests a moment, then go.
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::info!("closing the connections still open after the grace period");
    }
    Ok(())
}

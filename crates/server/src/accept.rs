//! The accept loop and the life of each connection: how many may be open at once, how long
//! one may take to send a request head, how long a kept-alive one may sit idle, and the
//! drain on shutdown (ADR 0012). HTTP/1.1 only, through hyper's http1 server. The body's
//! deadline is a layer instead (`middleware.rs`): only a handler knows when it reads one.
//!
//! Each connection has a watchdog that knows which phase it is in:
//! - **waiting** for a request: no byte of the next one has arrived. The first request of a
//!   connection must be complete within `header_read_timeout` of the accept; a kept-alive
//!   connection may wait `idle_timeout` for its next one.
//! - **reading a head**: bytes of a request arrived but no request has reached the router;
//!   the head must be complete within `header_read_timeout` of its first byte.
//! - **in flight**: the router is answering; no deadline here (the body has its own).
//!
//! hyper's own `header_read_timeout` is off: it also runs while a kept-alive connection
//! waits, so it cannot tell a slow head from a quiet client. A connection past its deadline
//! is dropped, which closes it.
//!
//! At the cap (`max_connections`, sized from the descriptor limit) a new connection is
//! still accepted: the oldest connection with no request in flight, quiet for a second, is
//! closed to make room, so idle or trickling sockets cannot lock out a client that asks for
//! something. Only while every open connection is answering a request (or was just
//! opened) does a new one wait in the listen backlog.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

/// The server's timeouts and its connection cap. The defaults are production values;
/// tests shorten them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// A request head must be complete this long after its first byte (for a connection's
    /// first request: after the accept). Past it the connection is closed.
    pub header_read_timeout: Duration,
    /// A request body must be complete this long after the handler starts reading it;
    /// past it the answer is 408 and the connection is closed.
    pub body_read_timeout: Duration,
    /// A kept-alive connection with no request in flight is closed after this long.
    pub idle_timeout: Duration,
    /// Connections open at once; at the cap the oldest one not answering a request is
    /// closed to make room for a new one.
    pub max_connections: usize,
}

impl ServerLimits {
    /// Descriptors kept for everything but client connections: the database pool, provider
    /// clients, the demo's fakes, logs, the runtime, and the one accepted socket that may
    /// briefly be over the cap.
    pub const RESERVED_DESCRIPTORS: u64 = 128;
    /// No more than this many connections, however many descriptors there are: each costs
    /// buffers, and a people directory has tens of concurrent clients, not tens of thousands.
    pub const MAX_CONNECTIONS: usize = 10_000;
    /// No fewer than this many, even under a tiny descriptor limit.
    pub const MIN_CONNECTIONS: usize = 16;

    /// The same limits with the connection cap sized for a process that may have
    /// `descriptors` files open: all of them but [`Self::RESERVED_DESCRIPTORS`].
    #[must_use]
    pub fn with_descriptor_limit(self, descriptors: u64) -> Self {
        let usable = descriptors.saturating_sub(Self::RESERVED_DESCRIPTORS);
        let max_connections = usize::try_from(usable)
            .unwrap_or(usize::MAX)
            .clamp(Self::MIN_CONNECTIONS, Self::MAX_CONNECTIONS);
        Self {
            max_connections,
            ..self
        }
    }
}

impl Default for ServerLimits {
    /// Headers 10 s, body 30 s, idle 60 s, and a cap that fits a 1,024-descriptor limit.
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 0,
        }
        .with_descriptor_limit(1024)
    }
}

/// How long a connection must have been quiet before it may be closed to make room. A
/// connection just accepted, or between two requests, may already have a request in the
/// socket that the server has not read yet; this gives it time to arrive. An idle or
/// trickling socket is quiet far longer.
const EVICTABLE_AFTER: Duration = Duration::from_secs(1);

/// How long the accept loop pauses after an error that is not about one connection (out of
/// descriptors, most likely), so it does not spin; and how often, at the cap with every
/// connection answering a request, it looks again for one that went quiet.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// Accepts connections until `shutdown` resolves, then stops accepting, lets every request
/// in flight finish, closes the quiet connections, and returns once all are closed.
pub(crate) async fn run(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let cap = limits.max_connections.max(1);
    let permits = Arc::new(Semaphore::new(cap));
    let open = Arc::new(Registry::default());
    let (stop, stopping) = watch::channel(false);
    let mut next_id: u64 = 0;
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of descriptors, usually: closing a quiet connection frees one.
                    tracing::warn!(error = %e, "cannot accept a connection; retrying");
                    open.evict_oldest_quiet();
                    tokio::select! {
                        () = tokio::time::sleep(ACCEPT_RETRY) => continue,
                        () = &mut shutdown => break,
                    }
                }
            },
            () = &mut shutdown => break,
        };
        let mut warned = false;
        let permit = loop {
            if let Ok(permit) = permits.clone().try_acquire_owned() {
                break Some(permit);
            }
            if !open.evict_oldest_quiet() && !warned {
                warned = true;
                tracing::warn!(
                    max_connections = cap,
                    "every connection is answering a request; new ones wait"
                );
            }
            tokio::select! {
                permit = permits.clone().acquire_owned() => break permit.ok(),
                // Look again: a connection may have gone quiet since.
                () = tokio::time::sleep(ACCEPT_RETRY) => {}
                () = &mut shutdown => break None,
            }
        };
        let Some(permit) = permit else { break };
        let _ = stream.set_nodelay(true);
        let id = next_id;
        next_id += 1;
        let tracker = Arc::new(Tracker::new());
        open.insert(id, tracker.clone());
        let registered = Registered {
            id,
            open: open.clone(),
            _permit: permit,
        };
        let router = router.clone();
        let stopping = stopping.clone();
        tokio::spawn(async move {
            serve_connection(stream, router, limits, tracker, stopping).await;
            // Dropped after the socket is closed, so the cap counts open descriptors.
            drop(registered);
        });
    }
    drop(listener);
    tracing::info!("stopped accepting; draining open connections");
    stop.send_replace(true);
    // Every connection holds a permit until it is closed.
    let all = u32::try_from(cap).unwrap_or(u32::MAX);
    let _drained = permits.acquire_many(all).await;
    Ok(())
}

/// Errors about one connection (it was reset before we took it) say nothing about the
/// listener.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// One connection, from its first byte to its close.
async fn serve_connection(
    stream: TcpStream,
    router: Router,
    limits: ServerLimits,
    tracker: Arc<Tracker>,
    mut stopping: watch::Receiver<bool>,
) {
    let io = TokioIo::new(Watched {
        stream,
        tracker: tracker.clone(),
    });
    let service = {
        let tracker = tracker.clone();
        hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let in_flight = tracker.begin_request();
            let answer = router.clone().oneshot(req.map(axum::body::Body::new));
            async move {
                let res = answer.await;
                drop(in_flight);
                res
            }
        })
    };
    let conn = hyper::server::conn::http1::Builder::new()
        // Ours is the watchdog below (see the module docs).
        .header_read_timeout(None)
        .serve_connection(io, service);
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        let deadline = tracker.deadline(&limits);
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = sleep_until(deadline) => {
                if tracker.deadline(&limits).is_some_and(|d| d <= Instant::now()) {
                    tracing::debug!("closing a connection past its header or idle timeout");
                    return;
                }
            }
            () = tracker.wake.notified() => {
                if !closing && tracker.is_evicted() {
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
            _ = stopping.wait_for(|stop| *stop), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
        }
        // hyper closes a closing connection once its current exchange is written (at once
        // between requests), but keeps one that was never sent a request open until one
        // arrives. No answer can be pending on that one, so it is simply dropped.
        if closing && !tracker.has_served() {
            return;
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// What the watchdog knows about one connection, kept up to date by its reader and its
/// service.
#[derive(Debug)]
struct Tracker {
    accepted: Instant,
    phase: Mutex<Phase>,
    /// Tells the watchdog to look again: its deadline moved, or it was asked to close.
    wake: Notify,
}

#[derive(Debug, Clone, Copy)]
struct Phase {
    /// Requests the router is answering (one at a time on HTTP/1.1).
    in_flight: usize,
    /// Whether any request reached the router.
    served: bool,
    /// When the last request was answered (the accept, before the first).
    idle_since: Instant,
    /// When the head being read started, if bytes of one arrived while none was in flight.
    head_started: Option<Instant>,
    /// Asked to close to make room for a new connection.
    evicted: bool,
}

impl Tracker {
    fn new() -> Self {
        let now = Instant::now();
        Self {
            accepted: now,
            phase: Mutex::new(Phase {
                in_flight: 0,
                served: false,
                idle_since: now,
                head_started: None,
                evicted: false,
            }),
            wake: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Phase> {
        // The phase is a few plain fields, consistent after every update: a panic elsewhere
        // while holding the lock leaves nothing half-written.
        self.phase.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// When the connection must be closed if nothing changes; none while a request is in
    /// flight.
    fn deadline(&self, limits: &ServerLimits) -> Option<Instant> {
        let phase = *self.lock();
        if phase.in_flight > 0 {
            None
        } else if let Some(started) = phase.head_started {
            Some(started + limits.header_read_timeout)
        } else if !phase.served {
            Some(self.accepted + limits.header_read_timeout)
        } else {
            Some(phase.idle_since + limits.idle_timeout)
        }
    }

    /// Bytes arrived. Between requests they start a head, whose deadline is usually
    /// earlier than the idle one the watchdog sleeps towards. (Bytes that arrive while a
    /// request is in flight, a pipelined next request, start nothing: that head waits
    /// under the idle deadline.)
    fn on_read(&self) {
        let mut phase = self.lock();
        if phase.in_flight == 0 && phase.head_started.is_none() {
            // A connection's first head runs from the accept, like its wait did.
            phase.head_started = Some(if phase.served {
                Instant::now()
            } else {
                self.accepted
            });
            drop(phase);
            self.wake.notify_one();
        }
    }

    fn begin_request(self: &Arc<Self>) -> InFlight {
        let mut phase = self.lock();
        phase.in_flight += 1;
        phase.served = true;
        phase.head_started = None;
        InFlight(self.clone())
    }

    fn has_served(&self) -> bool {
        self.lock().served
    }

    fn is_evicted(&self) -> bool {
        self.lock().evicted
    }

    /// Asks the connection to close if no request is in flight and it has been quiet (or
    /// reading one head) for [`EVICTABLE_AFTER`]; answers whether it was asked.
    fn evict_if_quiet(&self, now: Instant) -> bool {
        let mut phase = self.lock();
        let quiet_since = phase.head_started.unwrap_or(if phase.served {
            phase.idle_since
        } else {
            self.accepted
        });
        if phase.in_flight > 0 || phase.evicted || now < quiet_since + EVICTABLE_AFTER {
            return false;
        }
        phase.evicted = true;
        drop(phase);
        self.wake.notify_one();
        true
    }
}

/// A request the router is answering; its drop starts the idle wait.
struct InFlight(Arc<Tracker>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut phase = self.0.lock();
        phase.in_flight = phase.in_flight.saturating_sub(1);
        if phase.in_flight == 0 {
            phase.idle_since = Instant::now();
            phase.head_started = None;
            drop(phase);
            self.0.wake.notify_one();
        }
    }
}

/// The open connections by age, for closing the oldest quiet one at the cap.
#[derive(Debug, Default)]
struct Registry {
    open: Mutex<BTreeMap<u64, Arc<Tracker>>>,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, Arc<Tracker>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn insert(&self, id: u64, tracker: Arc<Tracker>) {
        self.lock().insert(id, tracker);
    }

    /// Asks the oldest connection that is quiet (see [`Tracker::evict_if_quiet`]) to close;
    /// answers whether there was one.
    fn evict_oldest_quiet(&self) -> bool {
        let now = Instant::now();
        self.lock().values().any(|t| t.evict_if_quiet(now))
    }
}

/// A connection's place in the registry and under the cap, given up when it closes.
struct Registered {
    id: u64,
    open: Arc<Registry>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.open.lock().remove(&self.id);
    }
}

/// The socket, telling the tracker when bytes arrive.
struct Watched {
    stream: TcpStream,
    tracker: Arc<Tracker>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.tracker.on_read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::sync::{Notify, oneshot};

    use super::*;

    /// Ends a test that would otherwise wait for ever; never a measurement.
    const HANG_GUARD: Duration = Duration::from_secs(30);
    /// Longer than the hang guard: no timeout can explain what a test sees.
    const LONG: Duration = Duration::from_secs(300);

    struct Server {
        addr: std::net::SocketAddr,
        /// Notified when `/slow` has reached its handler.
        entered: Arc<Notify>,
        release: Arc<Notify>,
        stop: Option<oneshot::Sender<()>>,
        done: tokio::task::JoinHandle<io::Result<()>>,
    }

    /// `/fast` answers at once, `/slow` once `release` is notified.
    async fn start(max_connections: usize) -> Server {
        let entered = Arc::new(Notify::new());
        let release = Arc::new(Notify::new());
        let (inside, waiting) = (entered.clone(), release.clone());
        let router = Router::new()
            .route("/fast", get(|| async { "fast" }))
            .route(
                "/slow",
                get(move || {
                    let (inside, waiting) = (inside.clone(), waiting.clone());
                    async move {
                        inside.notify_one();
                        waiting.notified().await;
                        "slow"
                    }
                }),
            );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limits = ServerLimits {
            header_read_timeout: LONG,
            body_read_timeout: LONG,
            idle_timeout: LONG,
            max_connections,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let done = tokio::spawn(run(listener, router, limits, async {
            let _ = stopped.await;
        }));
        Server {
            addr,
            entered,
            release,
            stop: Some(stop),
            done,
        }
    }

    async fn in_handler(server: &Server) {
        tokio::time::timeout(HANG_GUARD, server.entered.notified())
            .await
            .expect("/slow never reached its handler");
    }

    async fn send(stream: &mut TcpStream, path: &str) {
        let req = format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n");
        stream.write_all(req.as_bytes()).await.unwrap();
    }

    /// Reads until the answer's body ends with `body`.
    async fn answer(stream: &mut TcpStream, body: &str) -> String {
        let mut got = Vec::new();
        tokio::time::timeout(HANG_GUARD, async {
            let mut buf = [0_u8; 1024];
            while !String::from_utf8_lossy(&got).ends_with(&format!("\r\n\r\n{body}")) {
                let n = stream.read(&mut buf).await.unwrap();
                assert!(n > 0, "closed: {:?}", String::from_utf8_lossy(&got));
                got.extend_from_slice(&buf[..n]);
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no answer: {:?}", String::from_utf8_lossy(&got)));
        String::from_utf8_lossy(&got).into_owned()
    }

    async fn closed(stream: &mut TcpStream) -> bool {
        let mut buf = [0_u8; 64];
        matches!(
            tokio::time::timeout(HANG_GUARD, stream.read(&mut buf)).await,
            Ok(Ok(0) | Err(_))
        )
    }

    /// Whether the socket has been answered or closed yet, without waiting.
    fn has_news(stream: &TcpStream) -> bool {
        let mut buf = [0_u8; 1];
        !matches!(stream.try_read(&mut buf), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    #[tokio::test]
    async fn shutdown_finishes_requests_in_flight_and_closes_quiet_connections() {
        let mut server = start(16).await;
        let mut kept_alive = TcpStream::connect(server.addr).await.unwrap();
        send(&mut kept_alive, "/fast").await;
        answer(&mut kept_alive, "fast").await;
        let mut silent = TcpStream::connect(server.addr).await.unwrap();
        let mut busy = TcpStream::connect(server.addr).await.unwrap();
        send(&mut busy, "/slow").await;
        in_handler(&server).await;

        server.stop.take().unwrap().send(()).unwrap();
        assert!(
            closed(&mut kept_alive).await,
            "an idle kept-alive connection"
        );
        assert!(
            closed(&mut silent).await,
            "a connection that never sent a request"
        );
        assert!(!server.done.is_finished(), "a request is still in flight");
        assert!(
            !has_news(&busy),
            "the request in flight is neither answered nor cut"
        );

        server.release.notify_one();
        let slow = answer(&mut busy, "slow").await;
        assert!(slow.starts_with("HTTP/1.1 200"), "{slow}");
        assert!(closed(&mut busy).await, "closed once its answer is written");
        tokio::time::timeout(HANG_GUARD, server.done)
            .await
            .expect("serve returns once drained")
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn at_the_cap_a_request_in_flight_is_never_closed_to_make_room() {
        let server = start(1).await;
        let mut busy = TcpStream::connect(server.addr).await.unwrap();
        send(&mut busy, "/slow").await;
        in_handler(&server).await;
        // Connected, but not accepted while the only connection answers a request.
        let mut waiting = TcpStream::connect(server.addr).await.unwrap();
        send(&mut waiting, "/fast").await;
        server.release.notify_one();
        let slow = answer(&mut busy, "slow").await;
        assert!(slow.starts_with("HTTP/1.1 200"), "{slow}");
        // Now quiet, the first connection makes room for the one that waited.
        let fast = answer(&mut waiting, "fast").await;
        assert!(fast.starts_with("HTTP/1.1 200"), "{fast}");
        assert!(closed(&mut busy).await);
    }

    #[test]
    fn the_cap_leaves_descriptors_for_everything_else_within_bounds() {
        let limits = ServerLimits::default();
        for (descriptors, cap) in [
            (1024, 896),
            (20_000, ServerLimits::MAX_CONNECTIONS),
            (1 << 20, ServerLimits::MAX_CONNECTIONS),
            (200, 72),
            (64, ServerLimits::MIN_CONNECTIONS),
            (0, ServerLimits::MIN_CONNECTIONS),
        ] {
            assert_eq!(
                limits.with_descriptor_limit(descriptors).max_connections,
                cap,
                "{descriptors} descriptors"
            );
        }
        assert_eq!(limits.max_connections, 896, "the default fits 1,024");
    }
}

//! What probes from outside found (ADR 0012): connections that never finish, bodies that
//! never arrive, oversized declared bodies, invented methods in metrics, the bearer
//! scheme's case, and ids in other spellings.
//!
//! The connection tests use raw TCP and short configured timeouts. They assert that the
//! connection is closed or answered; the `HANG_GUARD` only stops a test that would wait
//! for ever, and is far longer than any timeout under test, so these never time anything.

use std::time::Duration;

use reqwest::Method;
use roster_server::ServerLimits;
use roster_testkit::{TestApp, spawn, spawn_with};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Ends a test that would otherwise wait for ever; never a measurement.
const HANG_GUARD: Duration = Duration::from_secs(30);
/// Short enough for a test, long enough that a busy machine still gets a request in.
const SHORT: Duration = Duration::from_secs(1);
/// Longer than the hang guard: a close that comes anyway came from another timeout.
const LONG: Duration = Duration::from_secs(300);

fn limits(header: Duration, body: Duration, idle: Duration) -> ServerLimits {
    ServerLimits {
        header_read_timeout: header,
        body_read_timeout: body,
        idle_timeout: idle,
        ..ServerLimits::default()
    }
}

async fn connect(t: &TestApp) -> TcpStream {
    TcpStream::connect(t.url.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection; what it sent before closing.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let read = tokio::time::timeout(HANG_GUARD, async {
        let mut buf = [0_u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the server kept the connection open; it had sent {:?}",
        String::from_utf8_lossy(&got)
    );
    String::from_utf8_lossy(&got).into_owned()
}

/// Reads one response (head and a `Content-Length` body) without waiting for a close.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let read = tokio::time::timeout(HANG_GUARD, async {
        let mut buf = [0_u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&got).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    return text;
                }
            }
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed mid-response: {text:?}");
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    read.unwrap_or_else(|_| panic!("no answer; got {:?}", String::from_utf8_lossy(&got)))
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let t = spawn_with(limits(SHORT, LONG, LONG).into()).await;
    let mut stream = connect(&t).await;
    assert_eq!(read_until_closed(&mut stream).await, "");
}

#[tokio::test]
async fn a_connection_that_sends_half_its_headers_is_closed_without_an_answer() {
    let t = spawn_with(limits(SHORT, LONG, LONG).into()).await;
    let mut stream = connect(&t).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: roster\r\nX-Slow: ")
        .await
        .unwrap();
    assert_eq!(read_until_closed(&mut stream).await, "");
}

#[tokio::test]
async fn a_kept_alive_connection_is_closed_after_the_idle_timeout() {
    let t = spawn_with(limits(LONG, LONG, SHORT).into()).await;
    let mut stream = connect(&t).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: roster\r\n\r\n")
        .await
        .unwrap();
    let answer = read_response(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(read_until_closed(&mut stream).await, "");
}

#[tokio::test]
async fn the_header_timeout_runs_from_the_first_byte_of_a_later_request() {
    // A long idle timeout, so only the header timeout can close it.
    let t = spawn_with(limits(SHORT, LONG, LONG).into()).await;
    let mut stream = connect(&t).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: roster\r\n\r\n")
        .await
        .unwrap();
    let answer = read_response(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: ros")
        .await
        .unwrap();
    assert_eq!(read_until_closed(&mut stream).await, "");
}

#[tokio::test]
async fn a_body_that_stalls_is_answered_408_and_the_connection_closed() {
    let t = spawn_with(limits(LONG, SHORT, LONG).into()).await;
    let exec = t.world.at("executive");
    let lead = t.world.at("lead").user.id;
    let mut stream = connect(&t).await;
    let head = format!(
        "PUT /api/admin/users/{lead} HTTP/1.1\r\nHost: roster\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
        exec.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("application/problem+json") && answer.contains("\"request_timeout\""),
        "{answer}"
    );
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_413_before_the_body_or_the_token() {
    let t = spawn().await;
    let lead = t.world.at("lead").user.id;
    let too_big = roster_server::MAX_BODY_BYTES + 1;
    // No token: the size is refused before anyone is asked who is calling.
    for auth in [
        String::new(),
        format!(
            "Authorization: Bearer {}\r\n",
            t.world.at("executive").token
        ),
    ] {
        let mut stream = connect(&t).await;
        let head = format!(
            "PUT /api/admin/users/{lead} HTTP/1.1\r\nHost: roster\r\n{auth}\
             Content-Type: application/json\r\nContent-Length: {too_big}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        // Not a byte of the body is sent: the answer cannot wait for it.
        let answer = read_response(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("\"payload_too_large\""), "{answer}");
    }
}

#[tokio::test]
async fn at_the_connection_cap_idle_connections_make_room_for_a_request() {
    // Timeouts far beyond the hang guard: only closing an idle connection can let it in.
    let t = spawn_with(
        ServerLimits {
            max_connections: 4,
            ..limits(LONG, LONG, LONG)
        }
        .into(),
    )
    .await;
    let mut idle = Vec::new();
    for _ in 0..12 {
        idle.push(connect(&t).await);
    }
    let answer = tokio::time::timeout(HANG_GUARD, t.get("/healthz").send())
        .await
        .expect("a request at the cap was never answered");
    assert_eq!(answer.status, 200);
    // The newest connections are the ones kept: the oldest were closed to make room.
    let oldest = read_until_closed(&mut idle[0]).await;
    assert_eq!(oldest, "");
}

#[tokio::test]
async fn invented_methods_add_no_metric_series() {
    let t = spawn().await;
    let invented: Vec<String> = (0..50).map(|i| format!("ZPROBE{i}Q")).collect();
    for name in &invented {
        let method = Method::from_bytes(name.as_bytes()).unwrap();
        let a = t.call(method, "/healthz").send().await;
        assert_eq!(a.status, 405, "{name}");
    }
    let metrics = t.get("/metrics").send().await.text;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("roster_http_requests_total")
                && l.contains("method=\"other\"")
                && l.contains("status=\"405\"")),
        "{metrics}"
    );
    for name in &invented {
        assert!(!metrics.contains(name.as_str()), "{name} became a label");
    }
}

#[tokio::test]
async fn the_bearer_scheme_is_read_in_any_case_and_with_several_spaces() {
    let t = spawn().await;
    let token = &t.world.at("employee").token;
    for scheme in ["Bearer ", "bearer ", "BEARER ", "bEaReR ", "Bearer    "] {
        let a = t
            .get("/api/me")
            .header("authorization", &format!("{scheme}{token}"))
            .send()
            .await;
        assert_eq!(a.status, 200, "{scheme:?}: {}", a.text);
    }
    t.get("/api/me")
        .header("authorization", &format!("Bearer{token}"))
        .send()
        .await
        .assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn an_existing_id_in_another_spelling_names_nothing() {
    let t = spawn().await;
    let exec = t.world.at("executive");
    let id = t.world.at("lead").user.id.to_string();
    let body = json!({"location": "Hobart"});
    for spelling in [
        format!("urn:uuid:{id}"),
        format!("{{{id}}}"),
        format!("%7B{id}%7D"),
        id.replace('-', ""),
    ] {
        t.put(&format!("/api/admin/users/{spelling}"))
            .as_user(exec)
            .json(&body)
            .send()
            .await
            .assert_problem(404, "not_found");
    }
    // The canonical spelling, and its upper case (RFC 9562: case-insensitive on input),
    // name the user.
    for spelling in [id.clone(), id.to_uppercase()] {
        let a = t
            .put(&format!("/api/admin/users/{spelling}"))
            .as_user(exec)
            .json(&body)
            .send()
            .await;
        assert_eq!(a.status, 200, "{spelling}: {}", a.text);
    }
}

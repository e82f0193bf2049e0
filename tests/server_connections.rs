//! Connections that never finish (issue 30): the real binary, started with a file limit of
//! 1,024 (`ulimit -n`), as a small server might have. Idle connections that never send a
//! request, slow request heads and idle keep-alive connections are closed after the
//! header-read timeout; one address cannot hold more than its share of connections; and
//! through all of it the server answers a sign-in. On the code before issue 30, 1,100 idle
//! connections stopped the server accepting anyone ("Too many open files") and none was closed
//! after 48 s.
#![cfg(target_os = "linux")]

mod common;

use std::net::{IpAddr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::HANG_DEADLINE;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const EMAIL: &str = "pat.coordinator@example.nhs.net";
const PASSWORD: &str = "a-long-synthetic-pass";
/// The header-read timeout the server runs with here (the default is 10 s).
const HEADER_TIMEOUT: Duration = Duration::from_secs(2);

struct Server {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Raises this test process's own file limit (it holds 1,500 sockets and more).
fn raise_own_file_limit() {
    // SAFETY: getrlimit/setrlimit only read and write the struct given to them.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        assert!(
            limit.rlim_cur >= 4096,
            "this test needs a file limit of at least 4,096 (the hard limit is {})",
            limit.rlim_max
        );
    }
}

fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// The server binary with one account, started under `ulimit -n 1024` (soft and hard, so it
/// cannot raise it) with `extra` arguments.
fn start(extra: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let bin = env!("CARGO_BIN_EXE_mdt-server");
    common::add_account_by_command(&data, EMAIL, "Pat Coordinator", PASSWORD);
    let addr = free_port();
    let child = Command::new("bash")
        .arg("-c")
        .arg(r#"ulimit -Sn 1024 && ulimit -Hn 1024 && exec "$0" "$@""#)
        .arg(bin)
        .arg("--data-dir")
        .arg(&data)
        .args(["--addr", &addr.to_string()])
        .arg("--dist")
        .arg(dir.path().join("no-dist"))
        .args([
            "--header-read-timeout-seconds",
            &HEADER_TIMEOUT.as_secs().to_string(),
        ])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server {
        child,
        addr,
        _dir: dir,
    };
    let deadline = Instant::now() + HANG_DEADLINE;
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}

/// A connection to `to` from the loopback address `from` (any of 127.0.0.0/8 works on Linux),
/// or `None` when the connection is not made.
async fn connect_from(from: IpAddr, to: SocketAddr) -> Option<TcpStream> {
    let socket = TcpSocket::new_v4().ok()?;
    socket.bind(SocketAddr::new(from, 0)).ok()?;
    socket.connect(to).await.ok()
}

fn loopback(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

/// Signs in from `from`: the status of the answer, or `None` when the server closed the
/// connection without one (turned away) or it could not be made.
async fn sign_in_from(from: IpAddr, to: SocketAddr) -> Option<u16> {
    let mut stream = connect_from(from, to).await?;
    let body = format!(r#"{{"email":"{EMAIL}","password":"{PASSWORD}"}}"#);
    let request = format!(
        "POST /api/session HTTP/1.1\r\nHost: test\r\nConnection: close\r\nX-Requested-With: mdt-app\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    tokio::time::timeout(HANG_DEADLINE, stream.read_to_end(&mut answer))
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&answer);
    text.split(' ').nth(1)?.parse().ok()
}

/// Signs in from `from`: the session cookie (`name=value`).
async fn session_cookie_from(from: IpAddr, to: SocketAddr) -> String {
    let mut stream = connect_from(from, to).await.unwrap();
    let body = format!(r#"{{"email":"{EMAIL}","password":"{PASSWORD}"}}"#);
    let request = format!(
        "POST /api/session HTTP/1.1\r\nHost: test\r\nConnection: close\r\nX-Requested-With: mdt-app\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    common::session_cookie_in(&String::from_utf8_lossy(&answer))
}

/// Opens a live-update stream from `from` with `cookie` and reads its first event: the open
/// connection, or `None` when the server turned it away.
async fn open_stream(from: IpAddr, to: SocketAddr, cookie: &str) -> Option<TcpStream> {
    let mut stream = connect_from(from, to).await?;
    let request = format!(
        "GET /api/sync/events HTTP/1.1\r\nHost: test\r\nConnection: close\r\nCookie: {cookie}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut seen = Vec::new();
    let mut chunk = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("data: pull") {
        let n = tokio::time::timeout(HANG_DEADLINE, stream.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        seen.extend_from_slice(&chunk[..n]);
    }
    Some(stream)
}

/// Signs in from `from`, trying again while the server turns the connection away, until it
/// answers or [`HANG_DEADLINE`] passes: the status and how many tries it took.
async fn sign_in_eventually(from: IpAddr, to: SocketAddr) -> (u16, usize) {
    let started = Instant::now();
    let mut tries = 0;
    loop {
        tries += 1;
        if let Some(status) = sign_in_from(from, to).await {
            return (status, tries);
        }
        assert!(
            started.elapsed() < HANG_DEADLINE,
            "no answer to a sign-in after {tries} tries in {HANG_DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens `count` connections that send nothing, spread over the loopback addresses `from`;
/// those the server refused at once are among them (they read end-of-file).
async fn idle_connections(count: usize, from: &[IpAddr], to: SocketAddr) -> Vec<TcpStream> {
    let mut open = Vec::with_capacity(count);
    for i in 0..count {
        if let Some(stream) = connect_from(from[i % from.len()], to).await {
            open.push(stream);
        }
    }
    open
}

/// Waits until every connection has been closed by the server (reads end-of-file or an
/// error): how long that took, or a failure after [`HANG_DEADLINE`].
async fn all_closed(connections: Vec<TcpStream>) -> Duration {
    let started = Instant::now();
    let waits = connections.into_iter().map(|mut stream| async move {
        let mut byte = [0u8; 1024];
        loop {
            match tokio::time::timeout(HANG_DEADLINE, stream.read(&mut byte)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                // A 408 answer before the close is fine: read on to the end.
                Ok(Ok(_)) => continue,
                Err(_) => return false,
            }
        }
    });
    let closed = futures_util::future::join_all(waits).await;
    let still_open = closed.iter().filter(|c| !**c).count();
    assert_eq!(
        still_open, 0,
        "{still_open} idle connections were still open after {HANG_DEADLINE:?}"
    );
    started.elapsed()
}

/// 1,500 idle connections from one address, then 1,500 spread over twelve: a sign-in from
/// another address is answered at once in the first case (one address holds at most its
/// share), and in the second as soon as the header-read timeout frees room; every idle
/// connection is closed by the server within that timeout (plus scheduling), and the server
/// keeps answering afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifteen_hundred_idle_connections_leave_sign_in_answered() {
    raise_own_file_limit();
    let server = start(&[]);
    let idle = idle_connections(1500, &[loopback(1)], server.addr).await;
    assert_eq!(sign_in_from(loopback(2), server.addr).await, Some(200));
    let waited = all_closed(idle).await;
    eprintln!("1,500 idle connections from one address closed within {waited:?}");

    let spread: Vec<IpAddr> = (1..=12).map(loopback).collect();
    let idle = idle_connections(1500, &spread, server.addr).await;
    let (status, tries) = sign_in_eventually(loopback(100), server.addr).await;
    assert_eq!(status, 200);
    eprintln!("a sign-in beside 1,500 idle connections from 12 addresses took {tries} tries");
    let waited = all_closed(idle).await;
    eprintln!("1,500 idle connections from 12 addresses closed within {waited:?}");
    assert_eq!(sign_in_from(loopback(2), server.addr).await, Some(200));
}

/// 1,500 live-update streams of one account, from twelve addresses: the account keeps its
/// newest eight and the server closes the rest, so they never fill its connections, and a
/// sign-in is still answered. On the code before issue 30, 1,100 streams of one account
/// stopped the server accepting anyone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifteen_hundred_streams_of_one_account_keep_eight_and_sign_in_answered() {
    raise_own_file_limit();
    let server = start(&[]);
    let cookie = session_cookie_from(loopback(2), server.addr).await;
    let mut opened = Vec::new();
    let mut turned_away = 0;
    for i in 0..1500u32 {
        match open_stream(loopback(1 + (i % 12) as u8), server.addr, &cookie).await {
            Some(stream) => opened.push(stream),
            None => turned_away += 1,
        }
    }
    let (status, tries) = sign_in_eventually(loopback(100), server.addr).await;
    assert_eq!(status, 200);
    // The streams still open: those that neither end nor close within a moment.
    let still_open =
        futures_util::future::join_all(opened.into_iter().map(|mut stream| async move {
            let mut rest = Vec::new();
            tokio::time::timeout(Duration::from_secs(3), stream.read_to_end(&mut rest))
                .await
                .is_err()
        }))
        .await
        .into_iter()
        .filter(|open| *open)
        .count();
    eprintln!(
        "1,500 streams of one account: {still_open} still open, {turned_away} turned away, a sign-in answered after {tries} tries"
    );
    assert!(
        still_open <= mdt::server::live::MAX_STREAMS_PER_ACCOUNT,
        "{still_open} streams of one account still open"
    );
    assert!(still_open >= 1, "the newest streams stay open");
}

/// A request head sent a byte at a time, slower than the timeout allows, is cut off: the
/// connection is closed while the client is still sending.
#[tokio::test]
async fn a_slow_request_head_is_cut_off() {
    let server = start(&[]);
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let started = Instant::now();
    let head = b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: ".to_vec();
    stream.write_all(&head).await.unwrap();
    let mut closed = false;
    while started.elapsed() < HANG_DEADLINE {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if stream.write_all(b"a").await.is_err() {
            closed = true;
            break;
        }
        let mut byte = [0u8; 512];
        if let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(1), stream.read(&mut byte)).await
        {
            // End of file, or a 408 answer: either way the server has given up on it.
            let _ = n;
            closed = true;
            break;
        }
    }
    assert!(
        closed,
        "a head still arriving after {HANG_DEADLINE:?} was not cut off"
    );
    eprintln!("a slow head was cut off after {:?}", started.elapsed());
}

/// An idle keep-alive connection is closed after its answer once the timeout passes, and a
/// connection that keeps asking is not.
#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let server = start(&[]);
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let request = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n";
    // Three requests, each within the timeout of the last, on one connection.
    for _ in 0..3 {
        stream.write_all(request).await.unwrap();
        let mut answer = [0u8; 4096];
        let n = tokio::time::timeout(HANG_DEADLINE, stream.read(&mut answer))
            .await
            .unwrap()
            .unwrap();
        assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200"));
        tokio::time::sleep(HEADER_TIMEOUT / 4).await;
    }
    let started = Instant::now();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(HANG_DEADLINE, stream.read_to_end(&mut rest)).await;
    assert!(
        read.is_ok(),
        "an idle keep-alive connection was still open after {HANG_DEADLINE:?}"
    );
    eprintln!(
        "an idle keep-alive connection was closed after {:?}",
        started.elapsed()
    );
}

/// The cap on connections from one address, with room made again as they close.
#[tokio::test]
async fn one_address_holds_at_most_its_share_of_connections() {
    let server = start(&["--max-connections-per-address", "5"]);
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(connect_from(loopback(7), server.addr).await.unwrap());
    }
    // The sixth is accepted and closed at once, without an answer.
    assert_eq!(sign_in_from(loopback(7), server.addr).await, None);
    // Another address is not affected.
    assert_eq!(sign_in_from(loopback(8), server.addr).await, Some(200));
    drop(held);
    let (status, _) = sign_in_eventually(loopback(7), server.addr).await;
    assert_eq!(status, 200);
}

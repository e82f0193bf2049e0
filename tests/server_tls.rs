//! HTTPS served directly by `mdt-server --tls-cert --tls-key` (rustls): the real binary with a
//! throwaway self-signed certificate, reached over TLS by a client that trusts only that
//! certificate. Over HTTPS the session cookie is `Secure` and every response carries HSTS.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PASSWORD: &str = "a-long-synthetic-pass";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

fn mdt_server(data_dir: &Path) -> Command {
    common::server_command(data_dir)
}

/// A certificate for `localhost` and its key, written as PEM files into `dir`.
fn self_signed(dir: &Path) -> rustls::pki_types::CertificateDer<'static> {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), cert.signing_key.serialize_pem()).unwrap();
    cert.cert.der().clone()
}

/// One HTTPS request; answers (status, head, body).
async fn https(
    addr: SocketAddr,
    trusted: &rustls::pki_types::CertificateDer<'static>,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: &str,
) -> (u16, String, String) {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(trusted.clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.expect("a TLS handshake");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Requested-With: mdt-app\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(c) = cookie {
        head.push_str(&format!("Cookie: {c}\r\n"));
    }
    head.push_str("\r\n");
    tls.write_all(head.as_bytes()).await.unwrap();
    tls.write_all(body.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    // A peer closing without close_notify is fine for this test once the answer is in.
    let _ = tls.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

#[tokio::test]
async fn the_server_speaks_https_with_a_certificate_and_marks_the_session_secure() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let trusted = self_signed(dir.path());
    common::add_account_by_command(
        &data,
        "pat.coordinator@example.nhs.net",
        "Pat Coordinator",
        PASSWORD,
    );

    let addr = free_port();
    let _server = Server(
        mdt_server(&data)
            .args(["--addr", &addr.to_string()])
            .arg("--tls-cert")
            .arg(dir.path().join("cert.pem"))
            .arg("--tls-key")
            .arg(dir.path().join("key.pem"))
            .arg("--dist")
            .arg(dir.path().join("no-dist"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }

    // Every response over HTTPS carries HSTS (an API error too).
    let (status, head, _) = https(addr, &trusted, "GET", "/api/session", None, "").await;
    assert_eq!(status, 401, "{head}");
    assert!(
        head.to_lowercase()
            .contains("strict-transport-security: max-age=31536000"),
        "{head}"
    );

    // Signing in over HTTPS gives a Secure, HttpOnly, SameSite=Strict cookie that works.
    let sign_in =
        format!(r#"{{"email":"pat.coordinator@example.nhs.net","password":"{PASSWORD}"}}"#);
    let (status, head, body) = https(addr, &trusted, "POST", "/api/session", None, &sign_in).await;
    assert_eq!(status, 200, "{head}{body}");
    let cookie_line = head
        .lines()
        .find(|l| l.to_lowercase().starts_with("set-cookie:"))
        .expect("a session cookie")
        .to_owned();
    for part in ["Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(cookie_line.contains(part), "{cookie_line}");
    }
    let cookie = cookie_line["set-cookie:".len()..]
        .trim()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let (status, _, body) = https(addr, &trusted, "GET", "/api/session", Some(&cookie), "").await;
    assert_eq!(status, 200);
    assert!(body.contains("pat.coordinator@example.nhs.net"), "{body}");

    // Plain HTTP on the TLS port gets no answer in HTTP.
    let mut plain = tokio::net::TcpStream::connect(addr).await.unwrap();
    plain
        .write_all(b"GET /api/session HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut answer)).await;
    assert!(!String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 401"));

    // A browser offering HTTP/2 (ALPN) is answered in HTTP/2, with the same headers.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(trusted.clone()).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(
            rustls::pki_types::ServerName::try_from("localhost").unwrap(),
            tcp,
        )
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tls),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    let request = hyper::Request::builder()
        .uri(format!("https://localhost:{}/api/session", addr.port()))
        .header("cookie", &cookie)
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.version(), hyper::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("strict-transport-security"));
}

#[test]
fn a_missing_certificate_stops_the_server_with_a_plain_message() {
    let dir = tempfile::tempdir().unwrap();
    let output = mdt_server(&dir.path().join("data"))
        .args(["--addr", &free_port().to_string()])
        .arg("--tls-cert")
        .arg(dir.path().join("missing-cert.pem"))
        .arg("--tls-key")
        .arg(dir.path().join("missing-key.pem"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot use the certificate"), "{stderr}");
    // A certificate without its key is refused before anything starts.
    let output = mdt_server(&dir.path().join("data"))
        .arg("--tls-cert")
        .arg(dir.path().join("cert.pem"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--tls-key"));
}

//! A real SMTP server on loopback for the email tests (`tests/mail/smtp_sink.py`, Python's
//! aiosmtpd, installed by `./scripts/test.sh`), and what it received.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// One message as the SMTP server received it.
#[derive(Debug, Clone, Deserialize)]
pub struct Received {
    pub envelope_to: Vec<String>,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub text: Option<String>,
    pub calendar: Option<String>,
    pub calendar_type: Option<String>,
    pub attachments: Vec<String>,
    /// The whole message as sent (headers and encoded parts).
    pub raw: String,
}

impl Received {
    /// The one address it went to.
    pub fn recipient(&self) -> &str {
        assert_eq!(self.envelope_to.len(), 1, "one recipient per message");
        &self.envelope_to[0]
    }
}

/// The Python of the venv the test script installs.
fn python() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::env::var_os("MDT_MAIL_PYTHON")
        .map(PathBuf::from)
        .or_else(|| Some(root.join(".tools/mail-venv/bin/python")).filter(|p| p.exists()))
        .expect(
            "the SMTP server of the email tests is not installed: run ./scripts/test.sh once \
             (it installs aiosmtpd into .tools/mail-venv)",
        )
}

/// The SMTP server, running until dropped (or stopped).
pub struct SmtpSink {
    child: Option<Child>,
    pub port: u16,
    folder: tempfile::TempDir,
}

impl SmtpSink {
    /// Starts on a free loopback port.
    pub fn start() -> Self {
        let folder = tempfile::Builder::new()
            .prefix("mdt-mail")
            .tempdir()
            .unwrap();
        let mut sink = Self {
            child: None,
            port: 0,
            folder,
        };
        sink.run(0);
        sink
    }

    fn run(&mut self, port: u16) {
        let mut child = Command::new(python())
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail/smtp_sink.py"))
            .arg(self.folder.path())
            .args(["--port", &port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the SMTP server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        self.port = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP server said {line:?}"));
        self.child = Some(child);
    }

    /// The `--smtp-url` of this server.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Stops it (nothing listens on its port until [`SmtpSink::resume`]).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, keeping what it received.
    pub fn resume(&mut self) {
        self.stop();
        let port = self.port;
        self.run(port);
    }

    /// Every message received so far, in order of arrival.
    pub fn received(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.folder.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    /// Waits until at least `n` messages have arrived (failing after `limit`), then a little
    /// longer, so a message sent twice would be seen too.
    pub fn wait_for(&self, n: usize, limit: Duration) -> Vec<Received> {
        let deadline = Instant::now() + limit;
        loop {
            let got = self.received();
            if got.len() >= n {
                std::thread::sleep(Duration::from_millis(1500));
                return self.received();
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} messages, received {}: {:#?}",
                got.len(),
                got.iter().map(|m| &m.subject).collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

//! Real components of a region for the multi-server tests: a throwaway PostgreSQL cluster from
//! Debian's packages (initdb in a temporary directory, as the `postgres` OS user when run as
//! root, on a free loopback port), `mdt-server` processes, and Debian's nginx running
//! `deploy/nginx.conf` in front of them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's PostgreSQL 15 keeps its programs.
pub const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

pub fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// Waits until something listens on `addr`, failing with `what` (asked only then) after
/// `limit`.
pub fn wait_until_listening(addr: SocketAddr, limit: Duration, what: impl Fn() -> String) {
    let deadline = Instant::now() + limit;
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "{}", what());
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program args…`, as the postgres OS user when we are root (initdb and pg_ctl refuse root).
fn as_postgres(program: &Path) -> Command {
    let mut command = if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    };
    // The database keeps the real clock on other days too, as the front door does (see
    // `Nginx::start`): only the servers under test run on the moved clock.
    command.env_remove("LD_PRELOAD").env_remove("FAKETIME");
    command
}

/// A PostgreSQL cluster of the test's own.
pub struct Postgres {
    dir: tempfile::TempDir,
    pub port: u16,
}

impl Postgres {
    /// Whether Debian's PostgreSQL is installed (the test script installs it).
    pub fn available() -> bool {
        Path::new(PG_BIN).join("initdb").exists()
    }

    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("mdt-region-pg")
            .tempdir()
            .unwrap();
        if running_as_root() {
            let status = Command::new("chown")
                .arg("postgres")
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown the cluster directory");
        }
        let data = dir.path().join("data");
        let out = as_postgres(&Path::new(PG_BIN).join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pg = Self {
            port: free_port().port(),
            dir,
        };
        pg.resume();
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts (again) and waits until it accepts connections.
    pub fn resume(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            self.port,
            self.dir.path().display()
        );
        let out = as_postgres(&Path::new(PG_BIN).join("pg_ctl"))
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("server.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stops it (`-m fast`: open transactions are rolled back, connections closed).
    pub fn pause(&self) {
        let out = as_postgres(&Path::new(PG_BIN).join("pg_ctl"))
            .arg("-D")
            .arg(self.data())
            .args(["-m", "fast", "-w", "stop"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_postgres(&Path::new(PG_BIN).join("pg_ctl"))
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// One `mdt-server` process.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub name: String,
    url: String,
    dist: PathBuf,
}

impl Server {
    /// Starts a server on `url` behind the proxy, and waits until it listens.
    pub fn start(url: &str, name: &str, dist: &Path) -> Self {
        Self::start_at(url, name, dist, free_port())
    }

    fn start_at(url: &str, name: &str, dist: &Path, addr: SocketAddr) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_mdt-server"))
            .args(["--database-url", url])
            .args(["--addr", &addr.to_string()])
            .arg("--dist")
            .arg(dist)
            .args(["--behind-proxy", "--server-name", name])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts");
        wait_until_listening(addr, Duration::from_secs(30), || {
            format!("{name} did not start listening")
        });
        Self {
            child,
            addr,
            name: name.to_owned(),
            url: url.to_owned(),
            dist: dist.to_owned(),
        }
    }

    /// SIGKILL: no shutdown, as in a crash of the machine it runs on.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same address (nginx finds it there).
    pub fn restart(&mut self) {
        self.kill();
        *self = Self::start_at(
            &self.url.clone(),
            &self.name.clone(),
            &self.dist.clone(),
            self.addr,
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// nginx running `deploy/nginx.conf`, with the test's ports in place of the example's.
pub struct Nginx {
    child: Child,
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Nginx {
    pub fn binary() -> Option<PathBuf> {
        ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
    }

    pub fn start(upstreams: &[SocketAddr]) -> Self {
        let example = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nginx.conf"),
        )
        .unwrap();
        let addr = free_port();
        let template = "        server 127.0.0.1:8081 max_fails=1 fail_timeout=2s;\n        server 127.0.0.1:8082 max_fails=1 fail_timeout=2s;\n";
        assert!(
            example.contains(template) && example.contains("listen 127.0.0.1:8080;"),
            "deploy/nginx.conf still has the example's upstreams and port"
        );
        let servers: String = upstreams
            .iter()
            .map(|a| format!("        server {a} max_fails=1 fail_timeout=2s;\n"))
            .collect();
        let conf = example
            .replace(template, &servers)
            .replace("listen 127.0.0.1:8080;", &format!("listen {addr};"));
        let dir = tempfile::tempdir().unwrap();
        for sub in ["logs", "temp"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let mut globals = format!("daemon off; pid {0}/nginx.pid;", dir.path().display());
        if running_as_root() {
            // Workers write request bodies to the test's own temporary directory.
            globals.push_str(" user root;");
        }
        let temp = dir.path().join("temp");
        let http_temp = format!(
            "client_body_temp_path {0}/body; proxy_temp_path {0}/proxy; fastcgi_temp_path {0}/fastcgi; uwsgi_temp_path {0}/uwsgi; scgi_temp_path {0}/scgi;",
            temp.display()
        );
        // The temporary paths belong in `http`: written into the copy.
        let conf = std::fs::read_to_string(&conf_path).unwrap().replacen(
            "http {\n",
            &format!(
                "http {{\n    {http_temp}\n    access_log {}/logs/access.log;\n",
                dir.path().display()
            ),
            1,
        );
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(Self::binary().expect("nginx is installed"))
            // The front door keeps the real clock when the tests run on another day
            // (scripts/test-any-day.sh): its timers are not what the tests are about, and with
            // the clock moved a year back libfaketime's monotonic clock goes below zero, which
            // made nginx mark healthy servers failed and answer 502.
            .env_remove("LD_PRELOAD")
            .env_remove("FAKETIME")
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(dir.path().join("logs/error.log"))
            .arg("-c")
            .arg(&conf_path)
            .args(["-g", &globals])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nginx starts");
        wait_until_listening(addr, Duration::from_secs(10), || {
            format!(
                "nginx did not start: {}",
                std::fs::read_to_string(dir.path().join("logs/error.log")).unwrap_or_default()
            )
        });
        Self {
            child,
            addr,
            _dir: dir,
        }
    }
}

impl Drop for Nginx {
    /// SIGTERM, so the master stops its workers too (SIGKILL would leave them running).
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

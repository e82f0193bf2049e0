//! The server's front door: accepts connections, plain or TLS, and hands each to hyper with
//! limits that keep idle and slow clients from taking the server down (issue 30).
//!
//! - A connection must send each request's head within [`Limits::header_read_timeout`], and an
//!   idle keep-alive connection is closed after the same time: hyper arms the timer whenever
//!   it waits for a request head (not while a response, such as a live-update stream, is
//!   being sent).
//! - At most [`Limits::max_connections`] connections are open at once (below the process's
//!   file limit, so the server can always open its database and answer), and at most
//!   [`Limits::max_per_address`] from one client address. A connection over a limit is closed
//!   at once, before anything is read from it.
//! - When the process runs out of file descriptors anyway, the loop waits a moment and goes
//!   on accepting, instead of pausing for a second as axum's did.
//! - A TLS handshake must finish within [`TLS_HANDSHAKE_TIMEOUT`].
//!
//! `axum::serve` and axum-server offer none of these limits, which is why the server has its
//! own loop over hyper-util's connection builder (the same builder axum uses underneath).

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// How long a TLS handshake may take before the connection is closed.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long requests in flight may take to finish once the server is asked to stop.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Descriptors kept back from connections for the database, files and outgoing email.
const DESCRIPTORS_KEPT_BACK: u64 = 128;

/// The limits on connections (see the module's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time allowed for a request's head, and for an idle keep-alive connection.
    pub header_read_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections open at once from one client address (`None`: no limit, behind a proxy
    /// where every connection comes from the proxy).
    pub max_per_address: Option<usize>,
}

impl Limits {
    /// The default time for a request's head and for idle connections.
    pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
    /// The default cap on connections from one address: room for a practice of 40 behind one
    /// address (each browser holds a live-update stream and up to six requests over HTTP/1.1,
    /// one connection over HTTP/2), while one client cannot take a quarter of a small
    /// server's connections.
    pub const MAX_PER_ADDRESS: usize = 256;

    /// The most connections this process can hold: its file limit (raised to the hard limit
    /// first, where the system allows) less what the server needs for itself.
    pub fn most_connections_possible() -> usize {
        let limit = raise_file_limit();
        limit.saturating_sub(DESCRIPTORS_KEPT_BACK).max(16) as usize
    }
}

/// Counts of connections turned away, for the logs and the metrics.
#[derive(Debug, Default)]
pub struct Counters {
    /// Connections open now.
    pub open: AtomicU64,
    /// Refused because [`Limits::max_connections`] were open.
    pub refused_total: AtomicU64,
    /// Refused because [`Limits::max_per_address`] were open from the same address.
    pub refused_per_address: AtomicU64,
    /// Accepts that failed for want of file descriptors.
    pub out_of_descriptors: AtomicU64,
    /// TLS handshakes that failed or took too long.
    pub tls_failed: AtomicU64,
}

/// Raises the soft limit on open files to the hard limit and returns the limit in force.
#[cfg(unix)]
fn raise_file_limit() -> u64 {
    // SAFETY: getrlimit/setrlimit only read and write the struct given to them.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
        limit.rlim_cur
    }
}

#[cfg(not(unix))]
fn raise_file_limit() -> u64 {
    8192
}

/// Connections open per client address; each entry is released when its connection ends.
#[derive(Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

/// One connection's place in [`PerAddress`], given back when dropped.
struct AddressPlace {
    table: Arc<PerAddress>,
    address: IpAddr,
}

impl PerAddress {
    fn take(table: &Arc<PerAddress>, address: IpAddr, most: usize) -> Option<AddressPlace> {
        let mut open = table.0.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(address).or_insert(0);
        if *count >= most {
            return None;
        }
        *count += 1;
        Some(AddressPlace {
            table: table.clone(),
            address,
        })
    }
}

impl Drop for AddressPlace {
    fn drop(&mut self) {
        let mut open = self.table.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.address);
            }
        }
    }
}

/// Whether an accept error means the process (or system) has no descriptors left: the loop
/// waits a moment for connections to close instead of spinning.
fn out_of_descriptors(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(code) if code == 24 /* EMFILE */ || code == 23 /* ENFILE */)
}

/// A TLS acceptor for the certificate chain and private key in the PEM files `cert` and
/// `key`, offering HTTP/2 and HTTP/1.1 (ALPN).
pub fn tls_acceptor(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    use anyhow::Context;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let unusable = || {
        format!(
            "cannot use the certificate {} with the key {} (both must be PEM files, the key unencrypted)",
            cert.display(),
            key.display()
        )
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(unusable)?;
    let key = PrivateKeyDer::from_pem_file(key).with_context(unusable)?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .with_context(unusable)?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .with_context(unusable)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Serves `router` on `listener` (over TLS with `tls`) within `limits` until `stop` completes,
/// then lets requests in flight finish for up to [`SHUTDOWN_GRACE`].
pub async fn serve(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    router: Router,
    limits: Limits,
    counters: Arc<Counters>,
    stop: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let per_address = Arc::new(PerAddress::default());
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(limits.header_read_timeout)
        .max_concurrent_streams(64);
    // The protocol is known before the first byte is read (HTTP/2 only over TLS, chosen by
    // ALPN; plain connections are HTTP/1.1), so hyper applies its timeouts from the start:
    // guessing it from the first bytes (hyper-util's "auto") waits for them with no limit.
    let builders = Arc::new(Builders {
        http1: builder.clone().http1_only(),
        http2: builder.http2_only(),
    });
    let mut last_warning: Option<std::time::Instant> = None;
    let mut warn = |what: &str| {
        // At most one warning a second, however many connections are turned away.
        if last_warning.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
            last_warning = Some(std::time::Instant::now());
            tracing::warn!("{what}");
        }
    };
    tokio::pin!(stop);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) if out_of_descriptors(&e) => {
                    counters.out_of_descriptors.fetch_add(1, Ordering::Relaxed);
                    warn("no file descriptors left for a new connection: raise LimitNOFILE or lower --max-connections");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                // A connection reset before it was accepted, and the like: nothing to do.
                Err(_) => continue,
            },
            () = &mut stop => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            counters.refused_total.fetch_add(1, Ordering::Relaxed);
            warn("connection refused: the server holds --max-connections already");
            drop(tcp);
            continue;
        };
        let place = match limits.max_per_address {
            Some(most) => match PerAddress::take(&per_address, peer.ip(), most) {
                Some(place) => Some(place),
                None => {
                    counters.refused_per_address.fetch_add(1, Ordering::Relaxed);
                    warn("connection refused: too many open from one address (--max-connections-per-address)");
                    drop(tcp);
                    continue;
                }
            },
            None => None,
        };
        let _ = tcp.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone().map_request(
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            },
        ));
        let (builders, watcher, tls, counters) = (
            builders.clone(),
            graceful.watcher(),
            tls.clone(),
            counters.clone(),
        );
        tokio::spawn(async move {
            counters.open.fetch_add(1, Ordering::Relaxed);
            let _held = (permit, place);
            serve_one(tcp, peer, tls, &builders, service, watcher, &counters).await;
            counters.open.fetch_sub(1, Ordering::Relaxed);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("requests still in flight after {SHUTDOWN_GRACE:?}: stopping anyway");
        }
    }
}

/// A connection builder for each protocol, configured alike.
struct Builders {
    http1: Builder<TokioExecutor>,
    http2: Builder<TokioExecutor>,
}

async fn serve_one<S>(
    tcp: TcpStream,
    peer: SocketAddr,
    tls: Option<tokio_rustls::TlsAcceptor>,
    builders: &Builders,
    service: TowerToHyperService<S>,
    watcher: hyper_util::server::graceful::Watcher,
    counters: &Counters,
) where
    S: tower::Service<
            axum::http::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let result = match tls {
        Some(acceptor) => {
            let stream =
                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => stream,
                    _ => {
                        counters.tls_failed.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(%peer, "TLS handshake failed or took too long");
                        return;
                    }
                };
            let builder = match stream.get_ref().1.alpn_protocol() {
                Some(b"h2") => &builders.http2,
                _ => &builders.http1,
            };
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            watcher.watch(connection.into_owned()).await
        }
        None => {
            let connection = builders.http1.serve_connection(TokioIo::new(tcp), service);
            watcher.watch(connection.into_owned()).await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

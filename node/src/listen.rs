//! Accepting and serving connections with bounded resources (issue 13): a cap on open
//! connections, a deadline for request headers (which hyper also applies to an idle
//! keep-alive connection waiting for its next request), and the open-file limit raised so
//! the cap, not the kernel, decides when new connections are turned away. With TLS the same
//! limits apply, and the handshake has its own deadline (`TLS_HANDSHAKE_TIMEOUT`).

use crate::tls::TLS_HANDSHAKE_TIMEOUT;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// The smallest read buffer hyper allows: a parked long-poll holds its connection's buffer
/// for as long as it waits, and thousands of them wait at once. Larger bodies still stream
/// through it.
const READ_BUFFER: usize = 8192;
/// A client must send a request's headers within this time of the connection opening or of
/// its previous response, else the connection is closed. hyper starts the same timer when a
/// keep-alive connection goes idle, so this is also the idle timeout. Long-polls are not
/// affected: the timer does not run while a request is being answered.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(20);
/// File descriptors kept free for the node's own use (sled, peer connections, logs) when
/// the connection cap is fitted under the open-file limit.
const RESERVED_FDS: u64 = 256;

/// Raises this process's open-file soft limit to its hard limit (as the Go server does),
/// returning the soft limit now in force. Uses `libc::setrlimit` directly: one call, and
/// the crate is already a dependency of tokio.
pub fn raise_open_file_limit() -> std::io::Result<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            } else {
                // An unlimited hard limit cannot be the soft one on Linux (nr_open caps it):
                // keep the soft limit we have, and fit the connection cap under it.
                let e = std::io::Error::last_os_error();
                tracing::warn!(soft = limit.rlim_cur, hard = limit.rlim_max, "cannot raise the open-file limit: {e}");
            }
        }
    }
    Ok(limit.rlim_cur)
}

/// The connection cap in force: the configured one, lowered to fit under the open-file
/// limit so that accepting never fails for want of descriptors.
pub fn connection_cap(configured: usize, open_files: u64) -> usize {
    let fitting = open_files.saturating_sub(RESERVED_FDS).max(1);
    configured.min(usize::try_from(fitting).unwrap_or(usize::MAX)).max(1)
}

/// Accepts connections until `shutdown` resolves. A connection beyond `cap` is closed at
/// once: a client is told promptly to go elsewhere, rather than queued in the backlog.
///
/// `permits` holds one permit per connection served; a websocket takes another one for
/// itself (`/pubsub`), since hyper lets go of an upgraded connection. Connections closed
/// at the cap are counted in `metrics`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    tls: Option<TlsAcceptor>,
    permits: Arc<Semaphore>,
    metrics: Arc<crate::metrics::ApiMetrics>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut refused: u64 = 0;
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, say: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => return,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            refused += 1;
            metrics.rejected(crate::metrics::Rejection::Limit);
            // Logged sparingly: a flood would otherwise flood the log too.
            if refused.is_power_of_two() {
                tracing::warn!(refused, "connection cap reached; closing new connections");
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (app, tls) = (app.clone(), tls.clone());
        // The handshake runs in the connection's own task, holding its permit: a slow one
        // delays nobody else's accept and counts against the cap.
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, app, false).await,
                Some(acceptor) => match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => {
                        // rustls has verified a certificate the client showed against the
                        // cluster CA; only then is one present.
                        let certified = stream.get_ref().1.peer_certificates().is_some();
                        serve_connection(stream, app, certified).await;
                    }
                    Ok(Err(e)) => tracing::debug!("TLS handshake failed: {e}"),
                    Err(_) => tracing::debug!("TLS handshake not done within {TLS_HANDSHAKE_TIMEOUT:?}"),
                },
            }
            drop(permit);
        });
    }
}

/// Serves the requests of one connection; `certified` marks each of them with
/// `ClusterCertificate` for the peer routes.
async fn serve_connection<S>(stream: S, app: axum::Router, certified: bool)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let app = app.map_request(move |mut request: axum::http::Request<hyper::body::Incoming>| {
        if certified {
            request.extensions_mut().insert(colonies_raft::ClusterCertificate);
        }
        request
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .max_buf_size(READ_BUFFER)
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), hyper_util::service::TowerToHyperService::new(app))
        .with_upgrades();
    if let Err(e) = connection.await {
        tracing::debug!("connection ended: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_fits_under_the_open_file_limit() {
        assert_eq!(connection_cap(10_000, 1_024), 768);
        assert_eq!(connection_cap(100, 1_024), 100);
        assert_eq!(connection_cap(100, 10), 1, "never zero: the node must still answer someone");
        assert_eq!(connection_cap(0, 100_000), 1);
    }

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let soft = raise_open_file_limit().unwrap();
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: as above.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) }, 0);
        assert_eq!((soft, limit.rlim_cur), (limit.rlim_max, limit.rlim_max));
    }
}

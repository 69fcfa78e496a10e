//! Serving the gateway on a TCP listener, plain or over TLS (axum-server):
//! no Nagle delay, a bound on how long a connection may take to send its
//! first request and each request's headers (a slow client cannot hold
//! sockets open), and on shutdown: stop accepting, give open requests a
//! moment.

use std::{net::SocketAddr, time::Duration};

use axum::Router;
use axum_server::{Handle, accept::NoDelayAcceptor, tls_rustls::RustlsAcceptor};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::Certificates;

/// Longest a client may take to send a request's headers (and its first
/// request), and a TLS handshake.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open requests get to finish at shutdown.
const DRAIN: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` (over TLS with `certificates`) until
/// `shutdown` is cancelled, then stops accepting and gives open requests
/// [`DRAIN`] to finish.
///
/// # Errors
/// The I/O error that stopped the server.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    certificates: Option<&Certificates>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let handle = Handle::new();
    let stopping = handle.clone();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        stopping.graceful_shutdown(Some(DRAIN));
    });
    let mut server = axum_server::from_tcp(listener.into_std()?)?
        .handle(handle)
        .first_request_timeout(HEADER_TIMEOUT);
    server
        .http_builder()
        .http1()
        .header_read_timeout(HEADER_TIMEOUT);
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    match certificates {
        Some(certificates) => {
            let acceptor = RustlsAcceptor::new(certificates.config.clone())
                .handshake_timeout(HEADER_TIMEOUT)
                .acceptor(NoDelayAcceptor::new());
            server.acceptor(acceptor).serve(service).await
        }
        None => server.acceptor(NoDelayAcceptor::new()).serve(service).await,
    }
}

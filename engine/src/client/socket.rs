//! Opening a WebSocket to a gateway as the command-line clients do: the
//! API key as a bearer token (never in the clear beyond loopback), TLS with
//! the system's roots and an optional private CA.

use std::sync::Arc;

use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{self, client::IntoClientRequest, protocol::WebSocketConfig},
};

/// How much a connection reads at once: the WebSocket layer zeroes this much
/// before every read attempt, and a load generator holds thousands of
/// connections; a larger frame takes more reads.
const READ_BUFFER: usize = 4 * 1024;

/// An open connection to a gateway.
pub type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// Why a connection could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    /// The connection could not be opened.
    #[error("WebSocket connection to {url} failed")]
    Connect {
        /// The URL.
        url: String,
        /// Why.
        source: tungstenite::Error,
    },
    /// The API key holds characters a header cannot.
    #[error("the API key is not valid in a header")]
    InvalidKey,
    /// TLS could not be set up, or the key would go in the clear.
    #[error(transparent)]
    Tls(#[from] crate::tls::ClientTlsError),
}

/// Connects to `url` with `api_key`, trusting `tls`'s roots for `wss://`
/// (made once by [`crate::tls::client_config`] and shared by every
/// connection of a client).
///
/// # Errors
/// A [`SocketError`] when the key cannot be sent or the connection fails.
pub async fn connect(
    url: &str,
    api_key: Option<&str>,
    tls: &Arc<rustls::ClientConfig>,
) -> Result<Socket, SocketError> {
    let connect_error = |source| SocketError::Connect {
        url: url.to_owned(),
        source,
    };
    crate::tls::check_key_transport(url, api_key.is_some())?;
    let mut request = url.into_client_request().map_err(connect_error)?;
    if let Some(key) = api_key {
        let value = format!("Bearer {key}")
            .parse()
            .map_err(|_| SocketError::InvalidKey)?;
        request.headers_mut().insert("authorization", value);
    }
    let connector = tokio_tungstenite::Connector::Rustls(tls.clone());
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let (socket, _) = tokio_tungstenite::connect_async_tls_with_config(
        request,
        Some(config),
        true,
        Some(connector),
    )
    .await
    .map_err(connect_error)?;
    Ok(socket)
}

//! HTTPS and WSS: the gateway's certificate and key (PEM files) served with
//! rustls, reloaded when the files change or on [`Certificates::reload`]
//! (the binary calls it on SIGHUP); open connections keep the certificate
//! they began with, new ones get the new one.

use std::{
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use axum_server::tls_rustls::RustlsConfig;
use tokio_util::sync::CancellationToken;

/// How often the files are checked for a change.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// A certificate or key that cannot be served.
#[derive(Debug, thiserror::Error)]
#[error("cannot load the TLS certificate {cert} and key {key} (gateway.tls_cert, gateway.tls_key)")]
pub struct TlsError {
    /// The certificate file.
    pub cert: PathBuf,
    /// The key file.
    pub key: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

/// The served certificate, and the files it comes from.
#[derive(Clone)]
pub struct Certificates {
    pub(super) config: RustlsConfig,
    cert: PathBuf,
    key: PathBuf,
}

impl Certificates {
    /// Loads the PEM certificate chain `cert` and its private key `key`.
    ///
    /// # Errors
    /// [`TlsError`] when either cannot be read or they do not match.
    pub async fn load(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        crate::tls::install_provider();
        let config = RustlsConfig::from_pem_file(cert, key)
            .await
            .map_err(|source| TlsError {
                cert: cert.to_owned(),
                key: key.to_owned(),
                source,
            })?;
        Ok(Self {
            config,
            cert: cert.to_owned(),
            key: key.to_owned(),
        })
    }

    /// Loads the files again; on failure the current certificate stays.
    ///
    /// # Errors
    /// [`TlsError`] when the new files cannot be served.
    pub async fn reload(&self) -> Result<(), TlsError> {
        self.config
            .reload_from_pem_file(&self.cert, &self.key)
            .await
            .map_err(|source| TlsError {
                cert: self.cert.clone(),
                key: self.key.clone(),
                source,
            })?;
        tracing::info!(cert = %self.cert.display(), "TLS certificate reloaded");
        Ok(())
    }

    /// Reloads whenever either file changes, until `token` is cancelled.
    pub async fn watch(self, token: CancellationToken) {
        let mut seen = self.modified();
        loop {
            tokio::select! {
                () = token.cancelled() => return,
                () = tokio::time::sleep(WATCH_EVERY) => {}
            }
            let now = self.modified();
            if now != seen {
                seen = now;
                if let Err(error) = self.reload().await {
                    let error = anyhow::Error::new(error);
                    tracing::error!(error = %format!("{error:#}"), "keeping the previous TLS certificate");
                }
            }
        }
    }

    fn modified(&self) -> [Option<SystemTime>; 2] {
        [&self.cert, &self.key].map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
    }
}

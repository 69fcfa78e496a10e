//! TLS shared by the gateway and the clients: one crypto provider
//! (aws-lc-rs, the one reqwest brings), what a client trusts (the system's
//! roots plus an optional CA file) and what it refuses (an API key sent in
//! the clear beyond loopback).

use std::{path::Path, sync::Arc};

use rustls::{ClientConfig, RootCertStore, pki_types::CertificateDer, pki_types::pem::PemObject};

/// Why a client's TLS could not be set up, or a connection is refused.
#[derive(Debug, thiserror::Error)]
pub enum ClientTlsError {
    /// The CA file cannot be read or holds no certificate.
    #[error("cannot use the CA file {path}: {message}")]
    Ca {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// An API key would cross the network unencrypted.
    #[error(
        "refusing to send an API key over {url}: use https:// or wss:// (plain http and ws are for loopback only)"
    )]
    KeyInTheClear {
        /// The URL.
        url: String,
    },
}

/// Makes aws-lc-rs the process's TLS provider (once; later calls do nothing).
pub fn install_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// A client configuration trusting the system's roots and, when given, the
/// certificates of the PEM file `ca` (a private CA, or a self-signed
/// server certificate).
///
/// # Errors
/// [`ClientTlsError::Ca`] when `ca` cannot be read or holds no certificate.
pub fn client_config(ca: Option<&Path>) -> Result<Arc<ClientConfig>, ClientTlsError> {
    install_provider();
    let mut roots = RootCertStore::empty();
    let system = rustls_native_certs::load_native_certs();
    for error in &system.errors {
        tracing::debug!(%error, "a system root certificate could not be read");
    }
    roots.add_parsable_certificates(system.certs);
    if let Some(path) = ca {
        let ca_error = |message: String| ClientTlsError::Ca {
            path: path.display().to_string(),
            message,
        };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| ca_error(e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| ca_error(e.to_string()))?;
        if certs.is_empty() {
            return Err(ca_error("no certificate in it".into()));
        }
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(ca_error("no usable certificate in it".into()));
        }
    }
    Ok(Arc::new(
        ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    ))
}

/// Refuses to send an API key over plain `http://` or `ws://` unless the
/// host is loopback.
///
/// # Errors
/// [`ClientTlsError::KeyInTheClear`].
pub fn check_key_transport(url: &str, has_key: bool) -> Result<(), ClientTlsError> {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        // Not a URL: the connection fails on its own, before any key is sent.
        return Ok(());
    };
    if !has_key || !matches!(parsed.scheme(), "http" | "ws") {
        return Ok(());
    }
    let host = parsed.host_str().unwrap_or_default();
    let host = host
        .strip_prefix('[')
        .and_then(|v6| v6.strip_suffix(']'))
        .unwrap_or(host);
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(ClientTlsError::KeyInTheClear {
            url: url.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_goes_in_the_clear_only_to_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "ws://localhost:8080/ws",
            "http://[::1]:8080/",
            "https://ticks.example.com",
            "wss://10.0.0.5/ws",
        ] {
            assert!(check_key_transport(ok, true).is_ok(), "{ok}");
        }
        for refused in [
            "http://10.0.0.5:8080",
            "ws://ticks.example.com/ws",
            "HTTP://example.com",
        ] {
            assert!(check_key_transport(refused, true).is_err(), "{refused}");
        }
        assert!(check_key_transport("http://10.0.0.5:8080", false).is_ok());
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "nothing here\n").unwrap();
        let error = client_config(Some(&empty)).unwrap_err();
        assert!(error.to_string().contains("no certificate"), "{error}");
        assert!(client_config(None).is_ok());
    }
}

//! HTTPS and WSS against the real daemon, with a CA and certificates made
//! in the test (rcgen): REST and `tail --url wss://` trust the CA given
//! with `--ca`, an untrusting client is refused, keys never go in the clear
//! beyond loopback, and a new certificate on disk is served to new
//! connections while open streams go on.

mod support;

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use support::Daemon;
use tokio_tungstenite::tungstenite::Message;

/// A test CA.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

impl Ca {
    fn new() -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "Tickstream test CA");
        let pem = params.self_signed(&key).unwrap().pem();
        Self {
            issuer: Issuer::new(params, key),
            pem,
        }
    }

    /// Writes a certificate for 127.0.0.1 and localhost named `name` (its
    /// common name) and its key into `dir`; returns the certificate's DER.
    fn issue(&self, dir: &Path, name: &str) -> Vec<u8> {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        // Key first: the watcher may see the certificate change before it.
        std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
        std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
        cert.der().to_vec()
    }
}

fn tls_env(dir: &Path) -> [(String, String); 2] {
    [
        (
            "TICKSTREAM_GATEWAY__TLS_CERT".into(),
            dir.join("cert.pem").display().to_string(),
        ),
        (
            "TICKSTREAM_GATEWAY__TLS_KEY".into(),
            dir.join("key.pem").display().to_string(),
        ),
    ]
}

fn start_tls(dir: &Path) -> Daemon {
    let env = tls_env(dir);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Daemon::role_with_env("run", &[], &env)
}

/// The certificate a new TLS connection to `addr` is shown.
async fn served_certificate(addr: std::net::SocketAddr, ca: &Path) -> Vec<u8> {
    let config = tickstream::tls::client_config(Some(ca)).unwrap();
    let connector = tokio_rustls::TlsConnector::from(config);
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let tls = connector.connect(name, tcp).await.unwrap();
    tls.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

#[tokio::test]
async fn https_and_wss_serve_with_a_trusted_ca_and_refuse_without() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.pem).unwrap();
    ca.issue(dir.path(), "first");
    let daemon = start_tls(dir.path());
    let base = format!("https://{}", daemon.addr);

    let trusting = reqwest::Client::builder()
        .tls_backend_preconfigured(
            (*tickstream::tls::client_config(Some(&ca_file)).unwrap()).clone(),
        )
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ready = trusting.get(format!("{base}/readyz")).send().await.unwrap();
        if ready.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "not ready over HTTPS");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let symbols: serde_json::Value = trusting
        .get(format!("{base}/api/v1/symbols"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(symbols.as_array().unwrap().len(), 20);
    // A client that does not trust the CA is refused at the handshake.
    let untrusting = reqwest::Client::builder()
        .tls_backend_preconfigured((*tickstream::tls::client_config(None).unwrap()).clone())
        .build()
        .unwrap();
    assert!(
        untrusting
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_err()
    );
    // Plain HTTP on the TLS port gets nothing useful.
    assert!(
        reqwest::get(format!("http://{}/healthz", daemon.addr))
            .await
            .is_err()
    );

    // `tail --url wss://` with the CA prints live ticks.
    let mut tail = Command::new(env!("CARGO_BIN_EXE_tickstreamd"))
        .args([
            "tail",
            "--json",
            "--url",
            &format!("wss://{}/ws", daemon.addr),
        ])
        .arg("--ca")
        .arg(&ca_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(tail.stdout.take().unwrap()).lines();
    for _ in 0..3 {
        let line = lines.next().expect("tail prints ticks").unwrap();
        let tick: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert!(tick["price"].as_f64().unwrap() > 0.0, "{line}");
    }
    let _ = tail.kill();
    let _ = tail.wait();
}

#[test]
fn a_key_is_never_sent_in_the_clear_beyond_loopback() {
    for args in [
        vec![
            "tail",
            "--url",
            "ws://192.0.2.1:8080/ws",
            "--api-key",
            "tsk_x",
        ],
        vec![
            "scenario",
            "--url",
            "http://192.0.2.1:8080",
            "--api-key",
            "tsk_x",
        ],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_tickstreamd"))
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("refusing to send an API key"),
            "{args:?}: {stderr}"
        );
    }
}

#[tokio::test]
async fn a_new_certificate_is_served_to_new_connections_while_streams_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.pem).unwrap();
    let first = ca.issue(dir.path(), "first");
    let daemon = start_tls(dir.path());
    assert_eq!(served_certificate(daemon.addr, &ca_file).await, first);

    let tls = tickstream::tls::client_config(Some(&ca_file)).unwrap();
    let url = format!("wss://{}/ws", daemon.addr);
    let mut socket = tickstream_e2e::subscribe_to_everything(&url, None, Some(tls))
        .await
        .unwrap();

    // Files changed on disk: the watcher reloads them.
    let second = ca.issue(dir.path(), "second");
    let deadline = Instant::now() + Duration::from_secs(10);
    while served_certificate(daemon.addr, &ca_file).await != second {
        assert!(
            Instant::now() < deadline,
            "the new certificate was not served"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // SIGHUP reloads too.
    let third = ca.issue(dir.path(), "third");
    support::hang_up(daemon.child.id());
    let deadline = Instant::now() + Duration::from_secs(10);
    while served_certificate(daemon.addr, &ca_file).await != third {
        assert!(Instant::now() < deadline, "SIGHUP did not reload");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The stream opened under the first certificate still delivers.
    let mut ticks = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while ticks < 3 {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("the old stream still delivers")
            .unwrap()
            .unwrap();
        if let Message::Text(text) = frame
            && text.contains(r#""type":"ticks""#)
        {
            ticks += 1;
        }
    }
}

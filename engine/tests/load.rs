//! `tickstreamd load` against the real daemon: its clients connect and
//! subscribe (one symbol each, slow and stalled ones beside them), receive
//! what an observer says they should, and the report carries the daemon's
//! CPU and memory from its `/metrics`.

mod support;

use std::process::Command;

use support::Daemon;
use tickstream::model::LoadReport;

#[test]
fn reports_what_its_clients_received_and_what_the_daemon_used() {
    let daemon = Daemon::start(&["--rate", "500"]);
    let out = support::succeeded(
        Command::new(env!("CARGO_BIN_EXE_tickstreamd"))
            .args(["load", "--url", &daemon.ws_url()])
            .args([
                "--clients",
                "40",
                "--mix",
                "one",
                "--slow",
                "2",
                "--stalled",
                "1",
            ])
            .args(["--warmup", "500ms", "--duration", "3s"])
            .output()
            .unwrap(),
    );
    let report: LoadReport = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report.clients, report.connected), (43, 43), "{report:?}");
    assert_eq!(report.connect_failures, 0);
    assert!(report.ticks > 0 && report.gaps == 0, "{report:?}");
    // Ticks in flight at the window's edges are the only difference.
    assert!(
        (0.9..=1.1).contains(&report.delivered_fraction),
        "{report:?}"
    );
    assert!(report.latency_ms.p50 > 0.0 && report.latency_ms.p50 <= report.latency_ms.max);
    let used = report.daemon.expect("the daemon's usage");
    assert!(
        // process_cpu_seconds_total counts whole seconds: a 3 s run may show none.
        used.rss_mib_before > 1.0 && used.rss_mib_end > 1.0 && used.cpu_cores >= 0.0,
        "{used:?}"
    );
}

#[test]
fn a_gateway_that_cannot_be_reached_is_an_error_naming_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_tickstreamd"))
        .args(["load", "--url", "ws://127.0.0.1:9/ws", "--duration", "1s"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("127.0.0.1:9"), "{stderr}");
}

//! The deployment assets in `headless/` stay true to the daemon: every
//! command line and environment variable of the compose file, and the
//! example config, are accepted by `tickstreamd --check-config`, and the
//! compose file's Grafana gets the dashboard and data source it needs.
//! (The Helm chart has its own test: `helm.rs`.)

mod support;

use std::{collections::BTreeMap, path::Path};

use serde::Deserialize;

#[derive(Deserialize)]
struct Compose {
    services: BTreeMap<String, Service>,
}

#[derive(Deserialize)]
struct Service {
    image: Option<String>,
    #[serde(default)]
    command: Vec<String>,
    #[serde(default)]
    environment: BTreeMap<String, String>,
    #[serde(default)]
    volumes: Vec<String>,
}

fn headless(file: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../headless")
        .join(file)
}

#[test]
fn every_tickstream_service_in_the_compose_file_is_accepted() {
    let text = std::fs::read_to_string(headless("compose.yaml")).unwrap();
    let compose: Compose = serde_norway::from_str(&text).unwrap();
    let ours: Vec<(&String, &Service)> = compose
        .services
        .iter()
        .filter(|(_, s)| {
            s.image
                .as_deref()
                .is_some_and(|i| i.starts_with("tickstream/"))
        })
        .collect();
    assert_eq!(ours.len(), 3, "a producer and two bridges");
    for (name, service) in ours {
        let out = support::check_config(&service.command, &service.environment);
        assert!(
            out.status.success(),
            "service {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let shown = String::from_utf8_lossy(&out.stdout);
        assert!(
            shown.contains("kafka1:9092,kafka2:9092,kafka3:9092"),
            "{name}: {shown}"
        );
        assert!(shown.contains("replication_factor: 3"), "{name}: {shown}");
    }
    // The Kafka cluster has three KRaft brokers.
    let brokers = compose
        .services
        .keys()
        .filter(|k| k.starts_with("kafka"))
        .count();
    assert_eq!(brokers, 3);
}

#[test]
fn the_check_catches_a_misspelt_variable() {
    let env = BTreeMap::from([("TICKSTREAM_BROKER".to_owned(), "k:9092".to_owned())]);
    let out = support::check_config(&["bridge".to_owned()], &env);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("TICKSTREAM_BROKER "));
}

#[test]
fn every_key_is_settable_from_the_environment_beside_kubernetes_service_links() {
    let env = BTreeMap::from([
        ("TICKSTREAM_LOG__PARTITIONS".to_owned(), "4".to_owned()),
        ("TICKSTREAM_STORE__RETENTION".to_owned(), "2h".to_owned()),
        // What Kubernetes injects for a Service named `tickstream`.
        (
            "TICKSTREAM_PORT".to_owned(),
            "tcp://10.0.0.1:8080".to_owned(),
        ),
        (
            "TICKSTREAM_PORT_8080_TCP_ADDR".to_owned(),
            "10.0.0.1".to_owned(),
        ),
        ("TICKSTREAM_SERVICE_HOST".to_owned(), "10.0.0.1".to_owned()),
        ("TICKSTREAM_SERVICE_PORT".to_owned(), "8080".to_owned()),
    ]);
    let out = support::check_config(&["run".to_owned()], &env);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(shown.contains("partitions: 4"), "{shown}");
    assert!(shown.contains("retention: 7200s"), "{shown}");
    let env = BTreeMap::from([("TICKSTREAM_LOG__PARTITONS".to_owned(), "4".to_owned())]);
    let out = support::check_config(&["run".to_owned()], &env);
    assert!(!out.status.success());
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(
        error.contains("TICKSTREAM_LOG__PARTITONS") && error.contains("partitions"),
        "{error}"
    );
}

#[test]
fn the_example_config_and_systemd_unit_are_accepted() {
    let config = headless("tickstream.example.toml").display().to_string();
    let out = support::check_config(&["run".into(), "--config".into(), config], &BTreeMap::new());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let unit = std::fs::read_to_string(headless("tickstreamd.service")).unwrap();
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart=/usr/bin/tickstreamd "))
        .unwrap();
    let mut args: Vec<String> = exec.split_whitespace().map(str::to_owned).collect();
    // The unit's config path exists only on a server: use the example instead.
    let at = args.iter().position(|a| a == "--config").unwrap();
    args[at + 1] = headless("tickstream.example.toml").display().to_string();
    let env: BTreeMap<String, String> = unit
        .lines()
        .filter_map(|l| l.strip_prefix("Environment="))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let out = support::check_config(&args, &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn grafana_in_the_compose_file_gets_the_charts_dashboard_and_prometheus() {
    let text = std::fs::read_to_string(headless("compose.yaml")).unwrap();
    let compose: Compose = serde_norway::from_str(&text).unwrap();
    let grafana = &compose.services["grafana"];
    let mounted: Vec<std::path::PathBuf> = grafana
        .volumes
        .iter()
        .map(|v| headless(v.split(':').next().unwrap()))
        .collect();
    for path in &mounted {
        assert!(path.exists(), "{} is mounted but missing", path.display());
    }
    assert!(
        mounted
            .iter()
            .any(|p| p.join("tickstream.json")
                == headless("helm/tickstream/dashboards/tickstream.json")),
        "the chart's dashboard is mounted"
    );
    let source =
        std::fs::read_to_string(headless("grafana/provisioning/datasources/prometheus.yaml"))
            .unwrap();
    assert!(source.contains("url: http://prometheus:9090"));
    assert!(compose.services.contains_key("prometheus"));
}

//! The Helm chart (`headless/helm/tickstream`) stays true to the daemon.
//! Rendered by the real `helm` (`$HELM`; `cargo xtask test` installs it),
//! with the default values and with every option on:
//! - every tickstreamd container's command line, environment and config
//!   file pass `tickstreamd --check-config`;
//! - the init container's script imports the Secret's keys into a fresh
//!   data directory, again at a restart;
//! - Services, probes, policies, the autoscaler, the Ingress and the
//!   ServiceMonitor name pods, ports and objects that exist;
//! - the Grafana dashboard asks only for metrics the daemon exports.

mod support;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
};

use serde::Deserialize;
use serde_norway::Value;

fn chart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../headless/helm/tickstream")
}

/// The chart's manifests, rendered with `values` (else the defaults).
fn render(values: Option<&str>) -> Vec<Value> {
    let helm = std::env::var_os("HELM").expect(
        "HELM must name a helm binary: `cargo xtask test` installs one (~/.cache/tickstream/k8s-tools/bin/helm)",
    );
    let mut cmd = Command::new(helm);
    cmd.args(["template", "tickstream"]).arg(chart());
    if let Some(values) = values {
        cmd.arg("-f").arg(chart().join(values));
    }
    let out = support::succeeded(cmd.output().expect("helm runs"));
    let text = String::from_utf8(out.stdout).unwrap();
    serde_norway::Deserializer::from_str(&text)
        .map(|document| Value::deserialize(document).unwrap())
        .filter(|document| !document.is_null())
        .collect()
}

const BOTH: [Option<&str>; 2] = [None, Some("ci/full-values.yaml")];

fn of_kind<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["kind"] == kind).collect()
}

fn name(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap()
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not text: {value:?}"))
}

/// The workloads' pod templates, by workload name.
fn pods(objects: &[Value]) -> Vec<(&str, &Value)> {
    objects
        .iter()
        .filter(|o| o["kind"] == "Deployment" || o["kind"] == "StatefulSet")
        .map(|o| (name(o), &o["spec"]["template"]))
        .collect()
}

/// Whether `labels` has every pair of `selector`.
fn selects(selector: &Value, labels: &Value) -> bool {
    let Some(selector) = selector.as_mapping() else {
        return false;
    };
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The pods `selector` picks, with their container ports' names and numbers.
fn picked<'a>(objects: &'a [Value], selector: &Value) -> Vec<(&'a str, Vec<(String, u64)>)> {
    pods(objects)
        .into_iter()
        .filter(|(_, pod)| selects(selector, &pod["metadata"]["labels"]))
        .map(|(workload, pod)| {
            let ports = pod["spec"]["containers"]
                .as_sequence()
                .unwrap()
                .iter()
                .flat_map(|c| c["ports"].as_sequence().cloned().unwrap_or_default())
                .map(|p| {
                    (
                        text(&p["name"]).to_owned(),
                        p["containerPort"].as_u64().unwrap(),
                    )
                })
                .collect();
            (workload, ports)
        })
        .collect()
}

#[test]
fn every_tickstreamd_container_runs_what_the_daemon_accepts() {
    for values in BOTH {
        let objects = render(values);
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("tickstream.toml");
        let map = of_kind(&objects, "ConfigMap")
            .into_iter()
            .find(|m| !m["data"]["tickstream.toml"].is_null())
            .expect("the config file's ConfigMap");
        std::fs::write(&config, text(&map["data"]["tickstream.toml"])).unwrap();
        let workloads = pods(&objects);
        assert_eq!(workloads.len(), 2, "{values:?}: producers and bridges");
        for (workload, pod) in workloads {
            let container = &pod["spec"]["containers"][0];
            assert_eq!(container["name"], "tickstreamd");
            let mounted = pod["spec"]["containers"][0]["volumeMounts"]
                .as_sequence()
                .unwrap()
                .iter()
                .find(|m| m["name"] == "config")
                .expect("the config volume is mounted");
            assert!(
                mounted.get("subPath").is_none(),
                "a subPath mount never sees an edited ConfigMap: no reload"
            );
            let path = format!("{}/tickstream.toml", text(&mounted["mountPath"]));
            let args: Vec<String> = container["args"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|a| {
                    let a = text(a);
                    if a == path {
                        config.display().to_string()
                    } else {
                        a.to_owned()
                    }
                })
                .collect();
            assert!(
                args.contains(&config.display().to_string()),
                "{workload}: {args:?}"
            );
            // Values as Kubernetes gives them: secrets and the pod's index
            // stand in, `$(VAR)` expands to an earlier variable.
            let mut env = BTreeMap::new();
            for var in container["env"].as_sequence().unwrap() {
                let value = if let Some(value) = var["value"].as_str() {
                    env.iter()
                        .fold(value.to_owned(), |v, (k, x): (&String, &String)| {
                            v.replace(&format!("$({k})"), x)
                        })
                } else if !var["valueFrom"]["secretKeyRef"].is_null() {
                    "a-secret".to_owned()
                } else {
                    assert_eq!(
                        var["valueFrom"]["fieldRef"]["fieldPath"],
                        "metadata.labels['apps.kubernetes.io/pod-index']"
                    );
                    "1".to_owned()
                };
                env.insert(text(&var["name"]).to_owned(), value);
            }
            let out = support::check_config(&args, &env);
            let shown = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{values:?} {workload}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(shown.contains("listen: 0.0.0.0:"), "{workload}: {shown}");
            if workload.ends_with("producer") {
                assert!(shown.contains("Producer(Shard { index: 1,"), "{shown}");
            }
            if values.is_some() {
                assert!(shown.contains("kafka-0.kafka:9093"), "{shown}");
                assert!(shown.contains("\"sasl.password\": \"***\""), "{shown}");
                assert!(!shown.contains("a-secret"), "{shown}");
            }
        }
    }
}

#[test]
fn the_init_container_imports_the_keys_the_secret_holds() {
    let objects = render(None);
    let (_, pod) = pods(&objects)[0];
    let init = &pod["spec"]["initContainers"][0];
    let mount = |volume: &str| {
        init["volumeMounts"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|m| m["name"] == volume)
            .map(|m| text(&m["mountPath"]).to_owned())
            .unwrap()
    };
    let (keys_at, data_at) = (mount("keys"), mount("data"));
    assert_eq!(init["env"][0]["value"], Value::from(data_at));
    let script = text(&init["args"][0]);
    let scratch = tempfile::tempdir().unwrap();
    let secret = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let tickstreamd = env!("CARGO_BIN_EXE_tickstreamd");
    let mut made = BTreeMap::new();
    for line in script.lines().filter(|l| !l.trim().is_empty()) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let (name, scope) = (words[4], words[6]);
        let file = words[8].strip_prefix(&format!("{keys_at}/")).unwrap();
        let out = support::succeeded(
            Command::new(tickstreamd)
                .args(["keys", "create", "--name", name, "--scope", scope])
                .arg("--data-dir")
                .arg(scratch.path())
                .output()
                .unwrap(),
        );
        std::fs::write(secret.path().join(file), out.stdout).unwrap();
        made.insert(name.to_owned(), scope.to_owned());
    }
    assert!(made.contains_key("admin"), "{made:?}");
    // A pod's start, then its container's restart on the same volume.
    for _ in 0..2 {
        let script = script
            .replace("tickstreamd ", &format!("{tickstreamd} "))
            .replace(&keys_at, &secret.path().display().to_string());
        support::succeeded(
            Command::new("/bin/sh")
                .args(["-ec", &script])
                .env("TICKSTREAM_DATA_DIR", data.path())
                .output()
                .unwrap(),
        );
    }
    let out = support::succeeded(
        Command::new(tickstreamd)
            .args(["keys", "list", "--json", "--data-dir"])
            .arg(data.path())
            .output()
            .unwrap(),
    );
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: BTreeMap<String, String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["name"].as_str().unwrap().to_owned(),
                k["scope"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(found, made);
}

#[test]
fn names_ports_and_selectors_line_up() {
    for values in BOTH {
        let objects = render(values);
        let services = of_kind(&objects, "Service");
        for service in &services {
            let pods = picked(&objects, &service["spec"]["selector"]);
            assert!(!pods.is_empty(), "{} selects no pods", name(service));
            for port in service["spec"]["ports"].as_sequence().unwrap() {
                let target = text(&port["targetPort"]);
                assert!(
                    pods.iter()
                        .all(|(_, ports)| ports.iter().any(|(n, _)| n == target)),
                    "{}: no container port {target}",
                    name(service)
                );
            }
        }
        for (workload, pod) in pods(&objects) {
            let container = &pod["spec"]["containers"][0];
            let ports: Vec<&str> = container["ports"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|p| text(&p["name"]))
                .collect();
            for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
                let port = text(&container[probe]["httpGet"]["port"]);
                assert!(ports.contains(&port), "{workload} {probe}: {port}");
            }
            let volumes: Vec<&str> = pod["spec"]["volumes"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|v| text(&v["name"]))
                .collect();
            for c in pod["spec"]["initContainers"]
                .as_sequence()
                .unwrap()
                .iter()
                .chain([container])
            {
                for m in c["volumeMounts"].as_sequence().unwrap() {
                    assert!(volumes.contains(&text(&m["name"])), "{workload}: {m:?}");
                }
            }
        }
        for budget in of_kind(&objects, "PodDisruptionBudget") {
            let selector = &budget["spec"]["selector"]["matchLabels"];
            assert_eq!(picked(&objects, selector).len(), 1, "{}", name(budget));
        }
        for policy in of_kind(&objects, "NetworkPolicy") {
            let pods = picked(&objects, &policy["spec"]["podSelector"]["matchLabels"]);
            assert_eq!(pods.len(), 1, "{}", name(policy));
            for rule in policy["spec"]["ingress"].as_sequence().unwrap() {
                for port in rule["ports"].as_sequence().unwrap() {
                    let port = text(&port["port"]);
                    assert!(
                        pods[0].1.iter().any(|(n, _)| n == port),
                        "{}: {port}",
                        name(policy)
                    );
                }
            }
        }
        for scaler in of_kind(&objects, "HorizontalPodAutoscaler") {
            let target = &scaler["spec"]["scaleTargetRef"];
            assert!(
                of_kind(&objects, text(&target["kind"]))
                    .iter()
                    .any(|o| name(o) == text(&target["name"])),
                "{}",
                name(scaler)
            );
        }
        for ingress in of_kind(&objects, "Ingress") {
            for rule in ingress["spec"]["rules"].as_sequence().unwrap() {
                for path in rule["http"]["paths"].as_sequence().unwrap() {
                    let backend = &path["backend"]["service"];
                    let service = services
                        .iter()
                        .find(|s| name(s) == text(&backend["name"]))
                        .expect("the Ingress's Service exists");
                    let port = &backend["port"]["name"];
                    assert!(
                        service["spec"]["ports"]
                            .as_sequence()
                            .unwrap()
                            .iter()
                            .any(|p| &p["name"] == port),
                        "{port:?}"
                    );
                }
            }
        }
        for monitor in of_kind(&objects, "ServiceMonitor") {
            let selected: Vec<&&Value> = services
                .iter()
                .filter(|s| {
                    selects(
                        &monitor["spec"]["selector"]["matchLabels"],
                        &s["metadata"]["labels"],
                    )
                })
                .collect();
            assert_eq!(selected.len(), services.len(), "it scrapes every Service");
            for endpoint in monitor["spec"]["endpoints"].as_sequence().unwrap() {
                assert_eq!(endpoint["path"], "/metrics");
                assert!(
                    selected.iter().any(|s| s["spec"]["ports"]
                        .as_sequence()
                        .unwrap()
                        .iter()
                        .any(|p| p["name"] == endpoint["port"])),
                    "{endpoint:?}"
                );
                assert_eq!(
                    endpoint["authorization"]["credentials"]["key"],
                    "prometheus"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_grafana_dashboard_asks_for_metrics_the_daemon_exports() {
    let file = chart().join("dashboards/tickstream.json");
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let shipped = render(Some("ci/full-values.yaml"))
        .into_iter()
        .find(|o| o["kind"] == "ConfigMap" && !o["data"]["tickstream.json"].is_null())
        .expect("the dashboard's ConfigMap");
    let shipped: serde_json::Value =
        serde_json::from_str(text(&shipped["data"]["tickstream.json"])).unwrap();
    assert_eq!(shipped, dashboard, "the chart ships the file as it is");

    let daemon = support::Daemon::start(&[]);
    // A refusal, so the refusals' counter has a sample.
    let refused = reqwest::Client::new()
        .post(daemon.url("/api/v1/alerts"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 415);
    let exported = daemon.metrics_text().await;
    let mut asked = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap();
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if word.starts_with("tickstream_") || word.starts_with("process_") {
                    asked.push(word.to_owned());
                }
            }
        }
    }
    assert!(asked.len() > 20, "{asked:?}");
    for metric in asked {
        assert!(
            exported.contains(&format!("\n{metric}{{"))
                || exported.contains(&format!("\n{metric} ")),
            "the dashboard asks for {metric}, which /metrics does not export"
        );
    }
}

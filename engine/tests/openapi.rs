//! The API's descriptions against the API itself: every route the gateway
//! serves is in the OpenAPI document, every documented operation, called
//! for real, answers with a documented status and a body its schema
//! accepts, and every WebSocket frame fits the AsyncAPI document.

mod support;

use std::{collections::BTreeSet, time::Duration};

use reqwest::{Method, header};
use serde_json::{Value, json};
use support::{Client, Daemon, eventually};

/// The OpenAPI document and the operations the test has called.
struct Described {
    document: Value,
    called: BTreeSet<(String, String)>,
}

impl Described {
    async fn fetch(daemon: &Daemon) -> Self {
        let document = daemon.get_json("/api/v1/openapi.json").await;
        assert_eq!(document["openapi"], "3.1.0");
        for (name, schema) in document["components"]["schemas"].as_object().unwrap() {
            jsonschema::meta::validate(schema)
                .unwrap_or_else(|e| panic!("schema {name} is not JSON Schema: {e}"));
        }
        Self {
            document,
            called: BTreeSet::new(),
        }
    }

    fn operation(&self, method: &Method, template: &str) -> &Value {
        let operation = &self.document["paths"][template][method.as_str().to_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {template} is not documented"
        );
        operation
    }

    /// Calls `method path` (an instance of `template`) and checks the
    /// answer against the document; the status and body.
    async fn call(
        &mut self,
        daemon: &Daemon,
        method: Method,
        (template, path): (&str, &str),
        key: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = reqwest::Client::new().request(method.clone(), daemon.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let documented = &self.operation(&method, template)["responses"][status.to_string()];
        assert!(
            documented.is_object(),
            "{method} {path} answered {status}, which its operation does not list: {text}"
        );
        for (name, _) in documented["headers"].as_object().into_iter().flatten() {
            assert!(
                headers.contains_key(name.as_str()),
                "{method} {path}: no {name} header"
            );
        }
        let content = documented["content"].as_object();
        let body = match content.and_then(|c| c.iter().next()) {
            Some((kind, _)) if kind == "application/json" => {
                let value: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"));
                let schema = &documented["content"]["application/json"]["schema"];
                if schema.is_object() {
                    self.validate(schema, &value, &format!("{method} {path} {status}"));
                }
                value
            }
            Some((kind, _)) => {
                let served = headers[header::CONTENT_TYPE].to_str().unwrap();
                let essence = |t: &str| t.split(';').next().unwrap().trim().to_owned();
                assert_eq!(essence(served), essence(kind), "{method} {path}");
                Value::String(text)
            }
            None => {
                assert!(
                    text.is_empty(),
                    "{method} {path}: a body not documented: {text}"
                );
                Value::Null
            }
        };
        self.called
            .insert((method.as_str().to_owned(), template.to_owned()));
        (status, body)
    }

    /// Checks `value` against `schema`, whose references point into the
    /// document's components.
    fn validate(&self, schema: &Value, value: &Value, what: &str) {
        let problems = self.problems(schema, value);
        assert!(problems.is_empty(), "{what}: {problems:?}\n{value}");
    }

    fn problems(&self, schema: &Value, value: &Value) -> Vec<String> {
        let rooted = json!({
            "allOf": [schema],
            "components": self.document["components"],
        });
        let validator = jsonschema::validator_for(&rooted).unwrap();
        validator
            .iter_errors(value)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    /// Every documented (method, path).
    fn operations(&self) -> BTreeSet<(String, String)> {
        let mut all = BTreeSet::new();
        for (path, item) in self.document["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                all.insert((method.to_uppercase(), path.clone()));
            }
        }
        all
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_described_and_answers_as_described() {
    let daemon = Daemon::start(&["--rate", "500"]);
    daemon.wait_ready().await;
    let mut api = Described::fetch(&daemon).await;
    let tick = json!({"$ref": "#/components/schemas/Tick"});
    let priced_in_words =
        json!({"symbol": "AAPL", "price": "ten", "volume": 1, "timestamp": "2026-12-03T09:30:00Z"});
    assert!(
        !api.problems(&tick, &priced_in_words).is_empty(),
        "the schemas bite"
    );
    eventually("AAPL has traded", Duration::from_secs(20), || async {
        let ticks = daemon.get_json("/api/v1/ticks?symbol=AAPL&limit=2").await;
        ticks.as_array().is_some_and(|t| !t.is_empty())
    })
    .await;

    let same = |path: &'static str| (path, path);
    let get = Method::GET;
    let (post, put, delete) = (Method::POST, Method::PUT, Method::DELETE);
    let hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    let hour_ago = hour_ago.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for (method, path, body, expected) in [
        (&get, same("/api/v1/symbols"), None, 200),
        (
            &get,
            ("/api/v1/book", "/api/v1/book?symbol=AAPL&depth=5"),
            None,
            200,
        ),
        (
            &get,
            ("/api/v1/book", "/api/v1/book?symbol=ZZZZ"),
            None,
            404,
        ),
        (
            &get,
            ("/api/v1/book", "/api/v1/book?symbol=AAPL&depth=0"),
            None,
            400,
        ),
        (
            &get,
            ("/api/v1/ticks", "/api/v1/ticks?symbol=AAPL&limit=5"),
            None,
            200,
        ),
        (
            &get,
            ("/api/v1/ticks", "/api/v1/ticks?symbol=ZZZZ"),
            None,
            404,
        ),
        (
            &get,
            ("/api/v1/ticks", "/api/v1/ticks?symbol=AAPL&limit=0"),
            None,
            400,
        ),
        (
            &get,
            ("/api/v1/candles", "/api/v1/candles?symbol=AAPL&interval=1s"),
            None,
            200,
        ),
        (
            &get,
            ("/api/v1/candles", "/api/v1/candles?symbol=AAPL&interval=2s"),
            None,
            400,
        ),
        (
            &get,
            ("/api/v1/candles", "/api/v1/candles?symbol=QQQQ"),
            None,
            404,
        ),
        (
            &get,
            (
                "/api/v1/indicators",
                "/api/v1/indicators?symbol=AAPL&interval=1s&indicator=bollinger&period=3",
            ),
            None,
            200,
        ),
        (
            &get,
            ("/api/v1/indicators", "/api/v1/indicators?symbol=AAPL"),
            None,
            400,
        ),
        (
            &get,
            (
                "/api/v1/indicators",
                "/api/v1/indicators?symbol=QQQQ&indicator=sma",
            ),
            None,
            404,
        ),
        (&get, same("/api/v1/volume"), None, 200),
        (
            &get,
            ("/api/v1/volume", "/api/v1/volume?minutes=7"),
            None,
            400,
        ),
        (
            &get,
            ("/api/v1/volume", "/api/v1/volume?symbol=QQQQ"),
            None,
            404,
        ),
        (&get, same("/api/v1/metrics"), None, 200),
        (&get, same("/api/v1/config"), None, 200),
        (&get, same("/api/v1/scenarios"), None, 200),
        (
            &post,
            same("/api/v1/scenarios"),
            Some(json!({"kind": "regime_change", "volatility": 1.5})),
            201,
        ),
        (
            &post,
            same("/api/v1/scenarios"),
            Some(json!({"kind": "meteor"})),
            400,
        ),
        (
            &post,
            same("/api/v1/scenarios"),
            Some(json!({"kind": "halt", "symbol": "QQQQ"})),
            404,
        ),
        (&get, same("/api/v1/audit"), None, 200),
        (
            &get,
            ("/api/v1/audit", "/api/v1/audit?from=yesterday"),
            None,
            400,
        ),
        (&get, same("/api/v1/alerts"), None, 200),
        (
            &post,
            same("/api/v1/alerts"),
            Some(json!({"symbol": "AAPL"})),
            400,
        ),
        (
            &post,
            same("/api/v1/alerts"),
            Some(json!({"symbol": "QQQQ", "condition": {"kind": "price_cross", "level": 1.0}})),
            404,
        ),
        (
            &get,
            ("/api/v1/alerts/{id}", "/api/v1/alerts/999"),
            None,
            404,
        ),
        (&get, ("/api/v1/alerts/{id}", "/api/v1/alerts/x"), None, 400),
        (
            &put,
            ("/api/v1/alerts/{id}", "/api/v1/alerts/999"),
            Some(rule(1.0)),
            404,
        ),
        (
            &put,
            ("/api/v1/alerts/{id}", "/api/v1/alerts/x"),
            Some(rule(1.0)),
            400,
        ),
        (
            &delete,
            ("/api/v1/alerts/{id}", "/api/v1/alerts/999"),
            None,
            404,
        ),
        (
            &delete,
            ("/api/v1/alerts/{id}", "/api/v1/alerts/x"),
            None,
            400,
        ),
        (
            &post,
            same("/api/v1/orders"),
            Some(json!({"symbol": "AAPL", "side": "buy", "kind": "market", "quantity": 10})),
            201,
        ),
        (
            &post,
            same("/api/v1/orders"),
            Some(
                json!({"symbol": "AAPL", "side": "buy", "kind": "limit", "quantity": 1, "limit_price": 1.0, "time_in_force": "gtc", "client_order_id": "low"}),
            ),
            201,
        ),
        (
            &post,
            same("/api/v1/orders"),
            Some(
                json!({"symbol": "AAPL", "side": "buy", "kind": "limit", "quantity": 1, "limit_price": 1.0, "client_order_id": "low"}),
            ),
            409,
        ),
        (
            &post,
            same("/api/v1/orders"),
            Some(json!({"symbol": "AAPL", "side": "buy", "kind": "limit", "quantity": 1})),
            400,
        ),
        (
            &post,
            same("/api/v1/orders"),
            Some(json!({"symbol": "QQQQ", "side": "buy", "kind": "market", "quantity": 1})),
            404,
        ),
        (
            &post,
            same("/api/v1/orders"),
            Some(json!({"symbol": "AAPL", "side": "sell", "kind": "market", "quantity": 1000000})),
            422,
        ),
        (&get, same("/api/v1/orders"), None, 200),
        (
            &get,
            ("/api/v1/orders", "/api/v1/orders?limit=0"),
            None,
            400,
        ),
        (&get, ("/api/v1/orders/{id}", "/api/v1/orders/1"), None, 200),
        (
            &get,
            ("/api/v1/orders/{id}", "/api/v1/orders/999"),
            None,
            404,
        ),
        (&get, ("/api/v1/orders/{id}", "/api/v1/orders/x"), None, 400),
        (
            &put,
            ("/api/v1/orders/{id}", "/api/v1/orders/2"),
            Some(json!({"quantity": 2})),
            200,
        ),
        (
            &put,
            ("/api/v1/orders/{id}", "/api/v1/orders/2"),
            Some(json!({"quantity": 0})),
            400,
        ),
        (
            &put,
            ("/api/v1/orders/{id}", "/api/v1/orders/999"),
            Some(json!({"quantity": 2})),
            409,
        ),
        (
            &put,
            ("/api/v1/orders/{id}", "/api/v1/orders/2"),
            Some(json!({"quantity": 1000000000})),
            422,
        ),
        (
            &delete,
            ("/api/v1/orders/{id}", "/api/v1/orders/2"),
            None,
            200,
        ),
        (
            &delete,
            ("/api/v1/orders/{id}", "/api/v1/orders/2"),
            None,
            409,
        ),
        (
            &delete,
            ("/api/v1/orders/{id}", "/api/v1/orders/x"),
            None,
            400,
        ),
        (&get, same("/api/v1/fills"), None, 200),
        (&get, ("/api/v1/fills", "/api/v1/fills?after=x"), None, 400),
        (&get, same("/api/v1/accounts"), None, 200),
        (
            &get,
            ("/api/v1/accounts/{name}", "/api/v1/accounts/paper"),
            None,
            200,
        ),
        (
            &get,
            ("/api/v1/accounts/{name}", "/api/v1/accounts/nobody"),
            None,
            404,
        ),
        (
            &post,
            same("/api/v1/accounts"),
            Some(json!({"name": "second", "cash": 5000})),
            201,
        ),
        (
            &post,
            same("/api/v1/accounts"),
            Some(json!({"name": "second"})),
            409,
        ),
        (
            &post,
            same("/api/v1/accounts"),
            Some(json!({"name": ""})),
            400,
        ),
        (
            &post,
            same("/api/v1/replays"),
            Some(json!({"from": hour_ago, "paused": true})),
            201,
        ),
        (
            &post,
            same("/api/v1/replays"),
            Some(json!({"from": hour_ago, "speed": "fast"})),
            400,
        ),
        (&get, same("/api/v1/replays"), None, 200),
        (
            &get,
            ("/api/v1/replays/{id}", "/api/v1/replays/1"),
            None,
            200,
        ),
        (
            &get,
            ("/api/v1/replays/{id}", "/api/v1/replays/999"),
            None,
            404,
        ),
        (
            &get,
            ("/api/v1/replays/{id}", "/api/v1/replays/x"),
            None,
            400,
        ),
        (
            &post,
            ("/api/v1/replays/{id}/control", "/api/v1/replays/1/control"),
            Some(json!({"action": "step", "ticks": 3})),
            200,
        ),
        (
            &post,
            ("/api/v1/replays/{id}/control", "/api/v1/replays/1/control"),
            Some(json!({"action": "step", "ticks": 0})),
            400,
        ),
        (
            &post,
            (
                "/api/v1/replays/{id}/control",
                "/api/v1/replays/999/control",
            ),
            Some(json!({"action": "play"})),
            404,
        ),
        (
            &get,
            (
                "/api/v1/candles",
                "/api/v1/candles?symbol=AAPL&interval=1s&replay=1",
            ),
            None,
            200,
        ),
        (
            &get,
            ("/api/v1/candles", "/api/v1/candles?symbol=AAPL&replay=999"),
            None,
            404,
        ),
        (
            &delete,
            ("/api/v1/replays/{id}", "/api/v1/replays/1"),
            None,
            204,
        ),
        (
            &delete,
            ("/api/v1/replays/{id}", "/api/v1/replays/1"),
            None,
            404,
        ),
        (&get, same("/api/v1/keys"), None, 200),
        (
            &post,
            same("/api/v1/keys"),
            Some(json!({"name": "", "scope": "read"})),
            400,
        ),
        (
            &delete,
            ("/api/v1/keys/{name}", "/api/v1/keys/nobody"),
            None,
            404,
        ),
        (&get, same("/healthz"), None, 200),
        (&get, same("/readyz"), None, 200),
        (&get, same("/metrics"), None, 200),
        (&get, same("/api/v1/openapi.json"), None, 200),
        (&get, same("/api/v1/asyncapi.json"), None, 200),
        (&get, same("/ws"), None, 400),
        (&get, same("/compat/polygon/stocks"), None, 400),
        (
            &get,
            ("/compat/alpaca/v2/{feed}", "/compat/alpaca/v2/crypto"),
            None,
            404,
        ),
        (
            &post,
            same("/graphql"),
            Some(json!({"query": "{ symbols { symbol price } }"})),
            200,
        ),
        (&get, same("/graphql"), None, 400),
    ] {
        let (status, answer) = api.call(&daemon, method.clone(), path, None, body).await;
        assert_eq!(status, expected, "{method} {}: {answer}", path.1);
    }

    // An alert rule's life.
    let (status, created) = api
        .call(
            &daemon,
            post.clone(),
            same("/api/v1/alerts"),
            None,
            Some(rule(1.0)),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let one = format!("/api/v1/alerts/{}", created["id"]);
    let at = ("/api/v1/alerts/{id}", one.as_str());
    assert_eq!(api.call(&daemon, get.clone(), at, None, None).await.0, 200);
    assert_eq!(
        api.call(&daemon, put.clone(), at, None, Some(rule(2.0)))
            .await
            .0,
        200
    );
    assert_eq!(
        api.call(&daemon, put.clone(), at, None, Some(json!({})))
            .await
            .0,
        400
    );
    assert_eq!(
        api.call(&daemon, delete.clone(), at, None, None).await.0,
        204
    );

    // Watchlists and portfolios, the same way.
    for (base, item) in [
        (
            "/api/v1/watchlists",
            json!({"name": "Tech", "symbols": ["AAPL"]}),
        ),
        (
            "/api/v1/portfolios",
            json!({"name": "Core", "positions": [{"symbol": "AAPL", "quantity": 10, "cost": 150.0}]}),
        ),
    ] {
        let list = (base, base);
        assert_eq!(
            api.call(&daemon, get.clone(), list, None, None).await.0,
            200
        );
        let (status, created) = api
            .call(&daemon, post.clone(), list, None, Some(item.clone()))
            .await;
        assert_eq!(status, 201, "{created}");
        let again = api
            .call(&daemon, post.clone(), list, None, Some(item.clone()))
            .await;
        assert_eq!(again.0, 409, "{}", again.1);
        assert_eq!(
            api.call(&daemon, post.clone(), list, None, Some(json!({})))
                .await
                .0,
            400
        );
        let template = format!("{base}/{{id}}");
        let one = format!("{base}/{}", created["id"]);
        let missing = format!("{base}/999");
        let at = (template.as_str(), one.as_str());
        let nowhere = (template.as_str(), missing.as_str());
        let malformed = format!("{base}/x");
        let bad = (template.as_str(), malformed.as_str());
        assert_eq!(api.call(&daemon, get.clone(), at, None, None).await.0, 200);
        assert_eq!(
            api.call(&daemon, get.clone(), nowhere, None, None).await.0,
            404
        );
        assert_eq!(api.call(&daemon, get.clone(), bad, None, None).await.0, 400);
        assert_eq!(
            api.call(&daemon, put.clone(), at, None, Some(item.clone()))
                .await
                .0,
            200
        );
        assert_eq!(
            api.call(&daemon, put.clone(), nowhere, None, Some(item.clone()))
                .await
                .0,
            404
        );
        assert_eq!(
            api.call(&daemon, put.clone(), at, None, Some(json!({})))
                .await
                .0,
            400
        );
        if base.ends_with("portfolios") {
            let value = format!("{one}/value");
            let at = ("/api/v1/portfolios/{id}/value", value.as_str());
            assert_eq!(api.call(&daemon, get.clone(), at, None, None).await.0, 200);
            let nowhere = (
                "/api/v1/portfolios/{id}/value",
                "/api/v1/portfolios/999/value",
            );
            assert_eq!(
                api.call(&daemon, get.clone(), nowhere, None, None).await.0,
                404
            );
        }
        assert_eq!(
            api.call(&daemon, delete.clone(), at, None, None).await.0,
            204
        );
        assert_eq!(
            api.call(&daemon, delete.clone(), nowhere, None, None)
                .await
                .0,
            404
        );
    }

    // Once a key exists, the guard's refusals are as documented too.
    let keys = same("/api/v1/keys");
    let new = json!({"name": "reader", "scope": "read"});
    let (status, created) = api.call(&daemon, post.clone(), keys, None, Some(new)).await;
    assert_eq!(status, 201, "{created}");
    let reader = created["key"].as_str().unwrap().to_owned();
    let (status, _) = api
        .call(&daemon, get.clone(), same("/api/v1/symbols"), None, None)
        .await;
    assert_eq!(status, 401);
    let (status, _) = api
        .call(
            &daemon,
            post.clone(),
            same("/api/v1/alerts"),
            Some(&reader),
            Some(rule(1.0)),
        )
        .await;
    assert_eq!(status, 403);
    let revoke = ("/api/v1/keys/{name}", "/api/v1/keys/reader");
    let (status, _) = api
        .call(&daemon, delete.clone(), revoke, Some(&reader), None)
        .await;
    assert_eq!(status, 403);
    let unsent = reqwest::Client::new()
        .post(daemon.url("/api/v1/alerts"))
        .bearer_auth(&reader)
        .body("level=1")
        .send()
        .await
        .unwrap();
    let documented = &api.operation(&post, "/api/v1/alerts")["responses"]["415"];
    assert_eq!(unsent.status(), 415);
    assert!(documented.is_object(), "415 is documented");

    let missed: Vec<_> = api.operations().difference(&api.called).cloned().collect();
    assert!(missed.is_empty(), "operations never called: {missed:?}");
}

fn rule(level: f64) -> Value {
    json!({"symbol": "AAPL", "condition": {"kind": "price_cross", "level": level}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_served_is_in_the_document() {
    let daemon = Daemon::start(&[]);
    let api = Described::fetch(&daemon).await;
    let paths: BTreeSet<String> = api.document["paths"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();

    // Every route the gateway's code names.
    let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/gateway")];
    let mut files = Vec::new();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    let mut named = BTreeSet::new();
    for file in files {
        let code = std::fs::read_to_string(file).unwrap();
        let served = code.split("#[cfg(test)]").next().unwrap();
        for literal in served.split("\"/").skip(1) {
            let path = format!("/{}", literal.split('"').next().unwrap());
            let route = path.starts_with("/api/v1/")
                || path
                    .strip_prefix("/compat/")
                    .is_some_and(|rest| !rest.is_empty())
                || ["/ws", "/graphql", "/metrics", "/healthz", "/readyz"].contains(&path.as_str());
            if route && !path.contains(char::is_whitespace) {
                named.insert(path);
            }
        }
    }
    let missing: Vec<_> = named.difference(&paths).collect();
    assert!(named.len() >= 10, "routes found in the code: {named:?}");
    assert!(
        missing.is_empty(),
        "routes not in the document: {missing:?}"
    );

    // No documented path answers a method it does not document.
    let client = reqwest::Client::new();
    for (path, item) in api.document["paths"].as_object().unwrap() {
        let concrete = path.replace("{id}", "1").replace("{name}", "someone");
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
        ] {
            if item[method.as_str().to_lowercase()].is_object() {
                continue;
            }
            let status = client
                .request(method.clone(), daemon.url(&concrete))
                .json(&json!({}))
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, 405, "{method} {path} is served but not documented");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_frames_fit_the_asyncapi_document() {
    let daemon = Daemon::start(&["--rate", "500"]);
    daemon.wait_ready().await;
    let asyncapi = daemon.get_json("/api/v1/asyncapi.json").await;
    assert_eq!(asyncapi["asyncapi"], "3.0.0");
    let messages = asyncapi["components"]["messages"].as_object().unwrap();
    let check = |tag: &str, frame: &Value| {
        let name = format!("{tag}_{}", frame[tag].as_str().unwrap());
        let message = messages
            .get(&name)
            .unwrap_or_else(|| panic!("no message {name} for {frame}"));
        let rooted = json!({
            "allOf": [message["payload"]],
            "components": {"schemas": asyncapi["components"]["schemas"]},
        });
        let validator = jsonschema::validator_for(&rooted).unwrap();
        let problems: Vec<String> = validator
            .iter_errors(frame)
            .map(|e| e.to_string())
            .collect();
        assert!(problems.is_empty(), "{frame}: {problems:?}");
    };
    for name in [
        "op_subscribe",
        "op_unsubscribe",
        "op_ping",
        "type_ticks",
        "type_gap",
        "type_error",
    ] {
        assert!(messages.contains_key(name), "{name} is described");
    }

    let mut client = Client::connect(&daemon.ws_url()).await;
    let sent = [
        json!({"op": "subscribe", "symbols": ["AAPL"], "topics": ["stock_ticks", "market_events", "system_metrics", "stock_quotes", "order_book"], "resume": {"0": 0}, "batch_ms": 20, "mode": "stream"}),
        json!({"op": "ping", "id": 7}),
        json!({"op": "unsubscribe", "symbols": ["AAPL"]}),
    ];
    for frame in &sent {
        check("op", frame);
    }
    // A frame the protocol refuses is refused by the document too.
    let refused = json!({"op": "subscribe", "symbol": ["AAPL"]});
    let rooted = json!({"allOf": [messages["op_subscribe"]["payload"]], "components": {"schemas": asyncapi["components"]["schemas"]}});
    assert!(
        !jsonschema::is_valid(&rooted, &refused),
        "a typo is not a valid subscribe"
    );

    client.send(sent[0].clone()).await;
    let mut seen = BTreeSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !["subscribed", "ticks", "metric", "quotes", "book"]
        .iter()
        .all(|t| seen.contains(*t))
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "frames seen: {seen:?}"
        );
        let frame = client.recv().await;
        check("type", &frame);
        seen.insert(frame["type"].as_str().unwrap().to_owned());
    }
    client.send(sent[1].clone()).await;
    check("type", &client.recv_type("pong").await);
    client.send(sent[2].clone()).await;
    check("type", &client.recv_type("unsubscribed").await);
    client.send(refused).await;
    check("type", &client.recv_type("error").await);
}

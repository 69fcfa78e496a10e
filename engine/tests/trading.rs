//! Paper trading through the daemon's public interfaces: orders placed,
//! changed and cancelled over REST, their fills against the simulated book,
//! the `orders` stream over WebSocket, refusals naming their field, a
//! resting order reached by the market, and accounts that reconcile
//! exactly with their fills across a restart.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Client, Daemon, eventually};

async fn place(daemon: &Daemon, order: Value) -> (u16, Value) {
    daemon
        .send(reqwest::Method::POST, "/api/v1/orders", Some(order))
        .await
}

/// Cash an account must hold after `fills`, from `starting` (exact, in
/// units of 10⁻⁶).
fn cash_after(starting: f64, fills: &[Value]) -> i128 {
    let units = |v: &Value| (v.as_f64().unwrap() * 1e6).round() as i128;
    let mut cash = (starting * 1e6).round() as i128;
    for fill in fills {
        let notional = units(&fill["price"]) * i128::from(fill["quantity"].as_u64().unwrap());
        let fee = units(&fill["fee"]);
        cash += match fill["side"].as_str().unwrap() {
            "buy" => -notional - fee,
            _ => notional - fee,
        };
    }
    cash
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_fill_against_the_book_stream_and_reconcile_across_a_restart() {
    let fees = [("TICKSTREAM_TRADING__FEE_PER_SHARE", "0.005")];
    let mut daemon = Daemon::role_with_env("run", &["--rate", "2000"], &fees);
    daemon.wait_ready().await;
    let mut client = Client::connect(&daemon.ws_url()).await;
    client
        .send(json!({"op":"subscribe","symbols":[],"topics":["orders"]}))
        .await;
    client.recv_type("subscribed").await;
    eventually("AAPL has a book", Duration::from_secs(10), || async {
        reqwest::get(daemon.url("/api/v1/book?symbol=AAPL"))
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await;

    // A market order walks the asks: filled, its fills streamed.
    let (status, placed) = place(
        &daemon,
        json!({"symbol":"AAPL","side":"buy","kind":"market","quantity":300,"client_order_id":"first"}),
    )
    .await;
    assert_eq!(status, 201, "{placed}");
    let order = &placed["order"];
    assert_eq!(order["status"], "filled", "{placed}");
    assert_eq!(order["client_order_id"], "first");
    let fills = placed["fills"].as_array().unwrap();
    let filled: u64 = fills.iter().map(|f| f["quantity"].as_u64().unwrap()).sum();
    assert_eq!(filled, 300);
    let prices: Vec<f64> = fills.iter().map(|f| f["price"].as_f64().unwrap()).collect();
    assert!(
        prices.windows(2).all(|w| w[0] < w[1]),
        "levels walked upward: {prices:?}"
    );
    assert!(fills.iter().all(|f| f["liquidity"] == "taker"));
    let id = order["id"].as_u64().unwrap();
    let mut streamed_fills = 0;
    loop {
        let frame = client.recv().await;
        match frame["type"].as_str() {
            Some("fill") if frame["data"]["order_id"] == id => streamed_fills += 1,
            Some("order") if frame["data"]["id"] == id => {
                assert_eq!(frame["data"]["status"], "filled");
                break;
            }
            _ => {}
        }
    }
    assert_eq!(streamed_fills, fills.len());

    // Refusals name the field and change nothing.
    let (status, refused) = place(
        &daemon,
        json!({"symbol":"AAPL","side":"sell","kind":"market","quantity":301}),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "insufficient_shares");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("quantity:")
    );
    let (status, refused) = place(
        &daemon,
        json!({"symbol":"AAPL","side":"buy","kind":"limit","quantity":100000,"limit_price":150.0}),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "insufficient_buying_power");
    let (status, refused) = place(
        &daemon,
        json!({"symbol":"AAPL","side":"buy","kind":"limit","quantity":1}),
    )
    .await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (400, Some("invalid_order"))
    );
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("limit_price:")
    );
    let (status, refused) = place(
        &daemon,
        json!({"symbol":"AAPL","side":"buy","kind":"market","quantity":1,"price":1}),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    let (status, _) = place(
        &daemon,
        json!({"symbol":"NOPE","side":"buy","kind":"market","quantity":1}),
    )
    .await;
    assert_eq!(status, 404);

    // A limit far from the market rests; changed, it keeps working;
    // cancelled, it is done.
    let book = daemon.get_json("/api/v1/book?symbol=AAPL").await;
    let bid = book["bids"][0]["price"].as_f64().unwrap();
    let far = ((bid * 0.9) * 100.0).round() / 100.0;
    let (status, resting) = place(
        &daemon,
        json!({"symbol":"AAPL","side":"buy","kind":"limit","quantity":10,"limit_price":far,"time_in_force":"gtc"}),
    )
    .await;
    assert_eq!(status, 201, "{resting}");
    assert_eq!(resting["order"]["status"], "open");
    assert_eq!(resting["order"]["queue_ahead"], 0);
    let resting_id = resting["order"]["id"].as_u64().unwrap();
    let (status, changed) = daemon
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/orders/{resting_id}"),
            Some(json!({"quantity": 5})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["order"]["quantity"], 5);
    let (status, cancelled) = daemon
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/orders/{resting_id}"),
            None,
        )
        .await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (200, Some("canceled"))
    );
    let (status, _) = daemon
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/orders/{resting_id}"),
            None,
        )
        .await;
    assert_eq!(status, 409);

    // A sell at the ask and a buy at the bid rest behind the queues there;
    // whichever way the market goes, its trades reach one of them.
    let book = daemon.get_json("/api/v1/book?symbol=AAPL").await;
    let (bid, ask) = (
        book["bids"][0]["price"].as_f64().unwrap(),
        book["asks"][0]["price"].as_f64().unwrap(),
    );
    let mut resting = Vec::new();
    for (side, price) in [("sell", ask), ("buy", bid)] {
        let (status, placed) = place(
            &daemon,
            json!({"symbol":"AAPL","side":side,"kind":"limit","quantity":100,"limit_price":price,"time_in_force":"gtc"}),
        )
        .await;
        assert_eq!(status, 201, "{placed}");
        resting.push(placed["order"]["id"].as_u64().unwrap());
    }
    eventually("a resting order fills", Duration::from_secs(60), || async {
        let fills = daemon.get_json("/api/v1/fills?limit=10000").await;
        fills
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["liquidity"] == "maker")
    })
    .await;
    for id in resting {
        // One may have filled meanwhile: 409.
        let (status, _) = daemon
            .send(
                reqwest::Method::DELETE,
                &format!("/api/v1/orders/{id}"),
                None,
            )
            .await;
        assert!(status == 200 || status == 409, "{status}");
    }

    // The account is what its fills say, to the unit.
    let fills = daemon
        .get_json("/api/v1/fills?account=paper&limit=10000")
        .await;
    let fills = fills.as_array().unwrap().clone();
    assert!(fills.iter().any(|f| f["liquidity"] == "maker"));
    assert!(fills.iter().all(|f| f["fee"].as_f64().unwrap() > 0.0));
    let account = daemon.get_json("/api/v1/accounts/paper").await;
    let cash = (account["cash"].as_f64().unwrap() * 1e6).round() as i128;
    assert_eq!(cash, cash_after(100_000.0, &fills), "{account}");
    let held: i64 = fills
        .iter()
        .map(|f| {
            let q = f["quantity"].as_i64().unwrap();
            if f["side"] == "buy" { q } else { -q }
        })
        .sum();
    assert_eq!(account["positions"][0]["quantity"], held, "{account}");
    let orders = daemon.get_json("/api/v1/orders?limit=10000").await;

    // After a restart: the same account, orders and fills.
    daemon.restart(&["--rate", "2000"]);
    daemon.wait_ready().await;
    let after = daemon.get_json("/api/v1/accounts/paper").await;
    for field in ["cash", "realized_pnl", "fees", "starting_cash"] {
        assert_eq!(
            after[field], account[field],
            "{field}: {after} vs {account}"
        );
    }
    assert_eq!(after["positions"][0]["quantity"], held);
    assert_eq!(
        after["positions"][0]["average_price"],
        account["positions"][0]["average_price"]
    );
    assert_eq!(daemon.get_json("/api/v1/orders?limit=10000").await, orders);
    let again = daemon
        .get_json("/api/v1/fills?account=paper&limit=10000")
        .await;
    assert_eq!(again.as_array().unwrap(), &fills);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_opened_with_their_cash_and_refused_by_name() {
    let daemon = Daemon::start(&["--rate", "200"]);
    let (status, account) = daemon
        .send(
            reqwest::Method::POST,
            "/api/v1/accounts",
            Some(json!({"name":"desk-2","cash":2500.5})),
        )
        .await;
    assert_eq!(status, 201, "{account}");
    assert_eq!(account["cash"], 2500.5);
    assert_eq!(account["buying_power"], 2500.5);
    let (status, again) = daemon
        .send(
            reqwest::Method::POST,
            "/api/v1/accounts",
            Some(json!({"name":"desk-2"})),
        )
        .await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("conflict"))
    );
    let (status, bad) = daemon
        .send(
            reqwest::Method::POST,
            "/api/v1/accounts",
            Some(json!({"name":"no spaces","cash":1})),
        )
        .await;
    assert_eq!(status, 400, "{bad}");
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("name:")
    );
    let (status, bad) = daemon
        .send(
            reqwest::Method::POST,
            "/api/v1/accounts",
            Some(json!({"name":"x","cash":-1})),
        )
        .await;
    assert_eq!(status, 400, "{bad}");
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("cash:")
    );
    let accounts = daemon.get_json("/api/v1/accounts").await;
    let names: Vec<&str> = accounts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["desk-2", "paper"]);
    let (status, _) = daemon
        .send(reqwest::Method::GET, "/api/v1/accounts/nobody", None)
        .await;
    assert_eq!(status, 404);
}

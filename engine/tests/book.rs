//! Market depth through the daemon's public interfaces: the `book` and
//! `quotes` streams over WebSocket and `GET /api/v1/book`.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Client, Daemon, book::DepthStream};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_book_stream_rebuilds_the_engines_book_and_quotes_and_trades_agree_with_it() {
    let daemon = Daemon::start(&["--rate", "2000"]);
    daemon.wait_ready().await;
    let mut client = Client::connect(&daemon.ws_url()).await;
    client
        .send(json!({"op":"subscribe","symbols":["AAPL"],"topics":["book","quotes","stock_ticks"]}))
        .await;
    let subscribed = client.recv_type("subscribed").await;
    assert_eq!(
        subscribed["topics"],
        json!(["stock_ticks", "stock_quotes", "order_book"])
    );
    let mut stream = DepthStream::new("AAPL");
    stream
        .read_until(
            &mut client,
            Duration::from_secs(10),
            "twenty book records",
            |s| s.book.seq > 0 && s.book.tops.len() > 20,
        )
        .await;

    // The engine's book now: the stream has delivered it or is about to.
    let rest = daemon.get_json("/api/v1/book?symbol=AAPL").await;
    stream.matches(&mut client, &rest).await;
    let DepthStream {
        book: copy,
        quotes,
        ticks,
        ..
    } = stream;

    // Quotes are the top of the book at their seq.
    assert!(!quotes.is_empty());
    for quote in &quotes {
        let seq = quote["seq"].as_u64().unwrap();
        if let Some(&(bid, bid_size, ask, ask_size)) = copy.tops.get(&seq) {
            assert_eq!(
                (
                    quote["bid"].as_f64().unwrap(),
                    quote["bid_size"].as_u64().unwrap()
                ),
                (bid, bid_size),
                "{quote}"
            );
            assert_eq!(
                (
                    quote["ask"].as_f64().unwrap(),
                    quote["ask_size"].as_u64().unwrap()
                ),
                (ask, ask_size),
                "{quote}"
            );
        }
    }
    // Continuous trades print at or through the touch.
    let continuous: Vec<&Value> = ticks
        .iter()
        .filter(|t| t.get("condition").is_none())
        .collect();
    assert!(!continuous.is_empty());
    for tick in continuous {
        let (price, bid, ask) = (
            tick["price"].as_f64().unwrap(),
            tick["bid"].as_f64().unwrap(),
            tick["ask"].as_f64().unwrap(),
        );
        assert!(price <= bid || price >= ask, "{tick}");
        assert!(bid < ask, "{tick}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_book_route_names_what_is_wrong() {
    let daemon = Daemon::start(&["--rate", "500"]);
    daemon.wait_ready().await;
    let client = reqwest::Client::new();
    for (query, status, words) in [
        ("", 400, "symbol is required"),
        ("?symbol=AAPL&depth=0", 400, "depth"),
        ("?symbol=AAPL&depth=11", 400, "depth"),
        ("?symbol=AAPL&depth=x", 400, "depth"),
        ("?symbol=AAPL&levels=3", 400, "levels"),
        ("?symbol=ZZZZ", 404, "unknown symbol"),
    ] {
        let response = client
            .get(daemon.url(&format!("/api/v1/book{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{query}");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error"]["message"].as_str().unwrap().contains(words),
            "{query}: {body}"
        );
    }
    // A symbol's book starts at its first trade.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let book: Value = loop {
        let response = client
            .get(daemon.url("/api/v1/book?symbol=AAPL&depth=3"))
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            break response.json().await.unwrap();
        }
        assert_eq!(response.status(), 404);
        assert!(
            tokio::time::Instant::now() < deadline,
            "AAPL has no book after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(book["bids"].as_array().unwrap().len(), 3, "{book}");
    assert_eq!(book["asks"].as_array().unwrap().len(), 3, "{book}");

    // GraphQL answers the same, refusals with REST's code.
    let graphql = |query: &str| {
        client
            .post(daemon.url("/graphql"))
            .json(&json!({ "query": query }))
            .send()
    };
    let reply: Value = graphql(r#"{ book(symbol: "AAPL", depth: 2) { symbol seq snapshot bids { price size } asks { price size } } }"#)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let book = &reply["data"]["book"];
    assert_eq!(book["symbol"], "AAPL", "{reply}");
    assert_eq!(book["snapshot"], true);
    assert_eq!(book["bids"].as_array().unwrap().len(), 2, "{reply}");
    let reply: Value = graphql(r#"{ book(symbol: "AAPL", depth: 0) { seq } }"#)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        reply["errors"][0]["extensions"]["code"], "invalid_parameter",
        "{reply}"
    );
}

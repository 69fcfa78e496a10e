//! The desk's matching, case by case: each order kind and time in force,
//! partial fills, queue position, stops, cancel/replace, refusals, expiry.

use chrono::Utc;

use super::*;

fn aapl() -> Symbol {
    Symbol::new("AAPL").unwrap()
}

fn level(price: f64, size: u64) -> BookLevel {
    BookLevel { price, size }
}

/// AAPL bid 99.98 × 300, 99.97 × 500; ask 100.01 × 200, 100.02 × 400,
/// 100.05 × 1,000.
fn book() -> OrderBook {
    OrderBook {
        symbol: aapl(),
        seq: 1,
        snapshot: true,
        bids: vec![level(99.98, 300), level(99.97, 500)],
        asks: vec![level(100.01, 200), level(100.02, 400), level(100.05, 1_000)],
        timestamp: Utc::now(),
    }
}

/// A desk whose `paper` account holds `cash` (no fees unless given).
fn desk(cash: f64, fees: Fees) -> Desk {
    let mut desk = Desk::new(fees, 0, 0);
    desk.open_account("paper", cash).unwrap();
    desk
}

fn order(side: Side, kind: OrderKind, quantity: u64) -> NewOrder {
    NewOrder {
        account: None,
        symbol: "AAPL".into(),
        side,
        kind,
        quantity,
        limit_price: None,
        stop_price: None,
        time_in_force: None,
        client_order_id: None,
    }
}

fn limit(side: Side, quantity: u64, price: f64, tif: TimeInForce) -> NewOrder {
    NewOrder {
        limit_price: Some(price),
        time_in_force: Some(tif),
        ..order(side, OrderKind::Limit, quantity)
    }
}

fn fills(changes: &[TradingEvent]) -> Vec<(f64, u64, Liquidity)> {
    changes
        .iter()
        .filter_map(|c| match c {
            TradingEvent::Fill(f) => Some((f.price, f.quantity, f.liquidity)),
            TradingEvent::Order(_) => None,
        })
        .collect()
}

fn last_order(changes: &[TradingEvent]) -> Order {
    changes
        .iter()
        .rev()
        .find_map(|c| match c {
            TradingEvent::Order(o) => Some(o.clone()),
            TradingEvent::Fill(_) => None,
        })
        .expect("an order change")
}

fn submit(desk: &mut Desk, new: NewOrder) -> Vec<TradingEvent> {
    desk.submit(new, aapl(), Some(&book()), Utc::now()).unwrap()
}

fn refusal(desk: &mut Desk, new: NewOrder) -> TradingError {
    desk.submit(new, aapl(), Some(&book()), Utc::now())
        .unwrap_err()
}

#[test]
fn a_market_order_walks_the_levels_and_fills_in_parts() {
    let mut desk = desk(1_000_000.0, Fees::default());
    let changes = submit(&mut desk, order(Side::Buy, OrderKind::Market, 700));
    assert_eq!(
        fills(&changes),
        vec![
            (100.01, 200, Liquidity::Taker),
            (100.02, 400, Liquidity::Taker),
            (100.05, 100, Liquidity::Taker),
        ]
    );
    let done = last_order(&changes);
    assert_eq!((done.status, done.filled), (OrderStatus::Filled, 700));
    // (200 × 100.01 + 400 × 100.02 + 100 × 100.05) / 700, to the unit.
    assert_eq!(done.average_price, Some(100.021428));
    // Larger than the book: what there is fills, the rest is cancelled.
    let changes = submit(&mut desk, order(Side::Buy, OrderKind::Market, 2_000));
    let done = last_order(&changes);
    assert_eq!((done.status, done.filled), (OrderStatus::Canceled, 1_600));
    assert!(done.reason.unwrap().contains("no more"));
    let account = desk.account("paper", |_| Some(100.0)).unwrap();
    assert_eq!(account.positions[0].quantity, 2_300);
}

#[test]
fn a_limit_order_takes_what_is_within_its_price_and_rests_behind_the_queue() {
    let mut desk = desk(1_000_000.0, Fees::default());
    let changes = submit(&mut desk, limit(Side::Buy, 500, 100.01, TimeInForce::Day));
    assert_eq!(fills(&changes), vec![(100.01, 200, Liquidity::Taker)]);
    let resting = last_order(&changes);
    assert_eq!(resting.status, OrderStatus::PartiallyFilled);
    // Nothing rested at 100.01 on the bid side: first in its queue.
    assert_eq!(resting.queue_ahead, Some(0));
    desk.cancel(resting.id, Utc::now()).unwrap();
    // A buy at the bid joins the back of its 300 shares.
    let changes = submit(&mut desk, limit(Side::Buy, 100, 99.98, TimeInForce::Gtc));
    let queued = last_order(&changes);
    assert_eq!(
        (queued.status, queued.queue_ahead),
        (OrderStatus::Open, Some(300))
    );
    // Trades at 99.98 take the shares ahead first, then the order.
    let changes = desk.on_trade(&aapl(), 99.98, 250, None, Utc::now());
    assert_eq!(fills(&changes), vec![]);
    assert_eq!(last_order(&changes).queue_ahead, Some(50));
    let changes = desk.on_trade(&aapl(), 99.98, 80, None, Utc::now());
    assert_eq!(fills(&changes), vec![(99.98, 30, Liquidity::Maker)]);
    assert_eq!(last_order(&changes).status, OrderStatus::PartiallyFilled);
    // A trade above a buy's price leaves it be; one through it fills the rest.
    assert!(
        desk.on_trade(&aapl(), 99.99, 500, None, Utc::now())
            .is_empty()
    );
    let changes = desk.on_trade(&aapl(), 99.97, 1, None, Utc::now());
    assert_eq!(fills(&changes), vec![(99.98, 70, Liquidity::Maker)]);
    assert_eq!(last_order(&changes).status, OrderStatus::Filled);
    assert!(desk.working().next().is_none());
}

#[test]
fn ioc_cancels_what_does_not_fill_at_once_and_fok_fills_all_or_nothing() {
    let mut desk = desk(1_000_000.0, Fees::default());
    let changes = submit(&mut desk, limit(Side::Buy, 500, 100.01, TimeInForce::Ioc));
    assert_eq!(fills(&changes), vec![(100.01, 200, Liquidity::Taker)]);
    let done = last_order(&changes);
    assert_eq!((done.status, done.filled), (OrderStatus::Canceled, 200));
    let changes = submit(&mut desk, limit(Side::Buy, 700, 100.02, TimeInForce::Fok));
    assert!(fills(&changes).is_empty());
    let killed = last_order(&changes);
    assert_eq!(killed.status, OrderStatus::Canceled);
    assert!(killed.reason.unwrap().contains("600 of 700"));
    let changes = submit(&mut desk, limit(Side::Buy, 600, 100.02, TimeInForce::Fok));
    assert_eq!(last_order(&changes).status, OrderStatus::Filled);
    assert!(desk.working().next().is_none());
}

#[test]
fn stops_wait_for_a_trade_at_their_price_then_take_the_book() {
    let mut desk = desk(1_000_000.0, Fees::default());
    let stop = NewOrder {
        stop_price: Some(100.10),
        ..order(Side::Buy, OrderKind::Stop, 300)
    };
    assert_eq!(
        last_order(&submit(&mut desk, stop)).status,
        OrderStatus::Pending
    );
    assert!(
        desk.on_trade(&aapl(), 100.09, 10, Some(&book()), Utc::now())
            .is_empty()
    );
    let changes = desk.on_trade(&aapl(), 100.10, 10, Some(&book()), Utc::now());
    assert_eq!(
        fills(&changes),
        vec![
            (100.01, 200, Liquidity::Taker),
            (100.02, 100, Liquidity::Taker)
        ]
    );
    assert_eq!(last_order(&changes).status, OrderStatus::Filled);
    // A stop-limit rests at its limit once triggered.
    let stop_limit = NewOrder {
        stop_price: Some(99.90),
        limit_price: Some(99.95),
        ..order(Side::Sell, OrderKind::StopLimit, 250)
    };
    submit(&mut desk, stop_limit);
    let changes = desk.on_trade(&aapl(), 99.90, 10, Some(&book()), Utc::now());
    // The bids (99.98, 99.97) are within its limit: 250 sell at once.
    assert_eq!(fills(&changes), vec![(99.98, 250, Liquidity::Taker)]);
    let wide = NewOrder {
        stop_price: Some(99.90),
        limit_price: Some(99.99),
        ..order(Side::Sell, OrderKind::StopLimit, 50)
    };
    submit(&mut desk, wide);
    let changes = desk.on_trade(&aapl(), 99.85, 10, Some(&book()), Utc::now());
    let resting = last_order(&changes);
    assert_eq!(
        (resting.status, resting.queue_ahead),
        (OrderStatus::Open, Some(0))
    );
    let changes = desk.on_trade(&aapl(), 100.0, 5, Some(&book()), Utc::now());
    assert_eq!(fills(&changes), vec![(99.99, 50, Liquidity::Maker)]);
}

#[test]
fn refusals_name_the_field_and_change_nothing() {
    let mut desk = desk(10_000.0, Fees::default());
    let error = refusal(&mut desk, order(Side::Buy, OrderKind::Market, 200));
    assert!(
        matches!(&error, TradingError::InsufficientFunds(m) if m.starts_with("quantity:") && m.contains("10000.00")),
        "{error}"
    );
    let error = refusal(&mut desk, order(Side::Sell, OrderKind::Market, 1));
    assert!(
        matches!(&error, TradingError::InsufficientShares(m) if m.contains("no short sales")),
        "{error}"
    );
    let error = refusal(&mut desk, order(Side::Buy, OrderKind::Limit, 1));
    assert_eq!(error.to_string(), "limit_price: a limit order needs one");
    let error = refusal(
        &mut desk,
        NewOrder {
            limit_price: Some(f64::NAN),
            ..order(Side::Buy, OrderKind::Limit, 1)
        },
    );
    assert!(error.to_string().starts_with("limit_price:"), "{error}");
    let error = refusal(&mut desk, order(Side::Buy, OrderKind::Market, 0));
    assert!(error.to_string().starts_with("quantity:"), "{error}");
    let error = refusal(
        &mut desk,
        NewOrder {
            account: Some("nobody".into()),
            ..order(Side::Buy, OrderKind::Market, 1)
        },
    );
    assert!(matches!(error, TradingError::NotFound(_)));
    // A working buy sets its cash aside: a second one is refused.
    submit(&mut desk, limit(Side::Buy, 90, 99.0, TimeInForce::Gtc));
    let error = refusal(&mut desk, limit(Side::Buy, 20, 99.0, TimeInForce::Gtc));
    assert!(
        matches!(error, TradingError::InsufficientFunds(_)),
        "{error}"
    );
    let account = desk.account("paper", |_| None).unwrap();
    assert_eq!((account.cash, account.buying_power), (10_000.0, 1_090.0));
}

#[test]
fn cancel_and_replace_keep_or_lose_the_queue_place() {
    let mut desk = desk(1_000_000.0, Fees::default());
    let id = last_order(&submit(
        &mut desk,
        limit(Side::Buy, 100, 99.98, TimeInForce::Day),
    ))
    .id;
    desk.on_trade(&aapl(), 99.98, 100, None, Utc::now());
    // Less quantity: the place (200 ahead) stays.
    let smaller = OrderChange {
        quantity: Some(60),
        ..OrderChange::default()
    };
    let changes = desk
        .replace(id, smaller, Some(&book()), Utc::now())
        .unwrap();
    assert_eq!(last_order(&changes).queue_ahead, Some(200));
    // A new price: placed again, at the back of 99.97's 500.
    let repriced = OrderChange {
        limit_price: Some(99.97),
        ..OrderChange::default()
    };
    let changes = desk
        .replace(id, repriced, Some(&book()), Utc::now())
        .unwrap();
    let moved = last_order(&changes);
    assert_eq!(
        (moved.limit_price, moved.queue_ahead),
        (Some(99.97), Some(500))
    );
    // Repriced through the ask: it fills at once.
    let through = OrderChange {
        limit_price: Some(100.01),
        ..OrderChange::default()
    };
    let changes = desk
        .replace(id, through, Some(&book()), Utc::now())
        .unwrap();
    assert_eq!(fills(&changes), vec![(100.01, 60, Liquidity::Taker)]);
    // Done orders can be neither cancelled nor changed.
    assert!(matches!(
        desk.cancel(id, Utc::now()),
        Err(TradingError::Conflict(_))
    ));
    let id = last_order(&submit(
        &mut desk,
        limit(Side::Buy, 10, 90.0, TimeInForce::Day),
    ))
    .id;
    let changes = desk.cancel(id, Utc::now()).unwrap();
    assert_eq!(last_order(&changes).status, OrderStatus::Canceled);
}

#[test]
fn fees_are_charged_on_each_fill_and_day_orders_expire_at_the_close() {
    let fees = Fees {
        per_share: 0.005,
        rate: 0.0001,
    };
    let mut desk = desk(100_000.0, fees);
    submit(&mut desk, order(Side::Buy, OrderKind::Market, 300));
    let account = desk.account("paper", |_| Some(100.01)).unwrap();
    // 200 × 100.01 + 100 × 100.02 = 30,004; fees 300 × 0.005 + 3.0004.
    assert_eq!(account.fees, 4.5004);
    assert_eq!(account.cash, 69_991.499_6);
    submit(&mut desk, limit(Side::Sell, 100, 101.0, TimeInForce::Day));
    submit(&mut desk, limit(Side::Sell, 100, 102.0, TimeInForce::Gtc));
    let changes = desk.close_session(Utc::now());
    let expired = last_order(&changes);
    assert_eq!(
        (expired.status, expired.limit_price),
        (OrderStatus::Expired, Some(101.0))
    );
    assert_eq!(desk.working().count(), 1);
}

#[test]
fn a_buy_is_cut_to_what_the_cash_pays_for_when_a_stop_triggers() {
    let mut desk = desk(25_001.0, Fees::default());
    let stop = NewOrder {
        stop_price: Some(100.0),
        ..order(Side::Buy, OrderKind::Stop, 250)
    };
    submit(&mut desk, stop);
    let changes = desk.on_trade(&aapl(), 100.0, 1, Some(&book()), Utc::now());
    // 200 at 100.01 leave 4,999: 49 of the 50 more at 100.02.
    assert_eq!(
        fills(&changes),
        vec![
            (100.01, 200, Liquidity::Taker),
            (100.02, 49, Liquidity::Taker)
        ]
    );
    let done = last_order(&changes);
    assert_eq!((done.status, done.filled), (OrderStatus::Canceled, 249));
    assert!(done.reason.unwrap().contains("cash ran out"));
    assert_eq!(desk.account("paper", |_| None).unwrap().cash, 98.02);
}

#[test]
fn accounts_are_bounded_and_named_within_their_rules() {
    let mut desk = Desk::new(Fees::default(), 0, 0);
    for i in 0..MAX_ACCOUNTS {
        desk.open_account(&format!("a{i}"), 1.0).unwrap();
    }
    let error = desk.open_account("one-more", 1.0).unwrap_err();
    assert!(
        matches!(&error, TradingError::Conflict(m) if m.contains("at most 1000")),
        "{error}"
    );
    let mut desk = Desk::new(Fees::default(), 0, 0);
    for (name, cash) in [
        ("", 1.0),
        ("has space", 1.0),
        ("ok", -1.0),
        ("ok", f64::NAN),
    ] {
        assert!(
            matches!(desk.open_account(name, cash), Err(TradingError::Invalid(_))),
            "{name:?} {cash}"
        );
    }
}

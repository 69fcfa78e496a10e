"""Alpaca's own SDK (alpaca-py's StockDataStream, MessagePack) against
Tickstream's /compat/alpaca/v2/iex, unchanged but for its address.

Usage: alpaca_client.py HOST:PORT KEY_ID SECRET SYMBOLS WANT SECONDS
Subscribes trades, quotes, bars, daily bars and statuses of SYMBOLS
(`AAPL,MSFT` or `*`), prints each message the SDK parsed as a JSON line
until it has WANT (`{"trade": 50, "bar": 1}`) of each kind or SECONDS pass.
"""

import json
import sys
import threading

from alpaca.data.live import StockDataStream


def main() -> int:
    address, key_id, secret, symbols, want, seconds = sys.argv[1:7]
    want = json.loads(want)
    symbols = symbols.split(",")
    stream = StockDataStream(
        key_id, secret, url_override=f"ws://{address}/compat/alpaca/v2/iex"
    )
    counts = {}

    def handler(kind):
        async def handle(message):
            fields = json.loads(message.model_dump_json())
            fields["kind"] = kind
            print(json.dumps(fields), flush=True)
            counts[kind] = counts.get(kind, 0) + 1
            if all(counts.get(k, 0) >= n for k, n in want.items()):
                await stream.stop_ws()

        return handle

    stream.subscribe_trades(handler("trade"), *symbols)
    stream.subscribe_quotes(handler("quote"), *symbols)
    stream.subscribe_bars(handler("bar"), *symbols)
    stream.subscribe_daily_bars(handler("daily_bar"), *symbols)
    stream.subscribe_trading_statuses(handler("status"), *symbols)
    timer = threading.Timer(float(seconds), stream.stop)
    timer.start()
    stream.run()
    timer.cancel()
    print(json.dumps({"kind": "end", "counts": counts}), flush=True)
    return 0


sys.exit(main())

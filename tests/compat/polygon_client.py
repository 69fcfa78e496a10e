"""Polygon's own client (polygon-api-client) against Tickstream's
/compat/polygon/stocks, unchanged but for its address.

Usage: polygon_client.py HOST:PORT KEY SUBSCRIPTIONS WANT SECONDS
Subscribes (`T.*,Q.AAPL`), prints each message the client parsed as a JSON
line until it has WANT (`{"T": 50, "AM": 1}`) of each event type or SECONDS
pass, then exits 0. A refused key exits 3 after printing the client's
AuthError.
"""

import asyncio
import dataclasses
import json
import logging
import sys

from polygon import WebSocketClient
from polygon.websocket.models import Market
from polygon.exceptions import AuthError


async def main() -> int:
    address, key, subscriptions, want, seconds = sys.argv[1:6]
    want = json.loads(want)
    client = WebSocketClient(
        api_key=key,
        feed=f"{address}/compat/polygon",
        market=Market.Stocks,
        secure=False,
        subscriptions=subscriptions.split(","),
        max_reconnects=0,
    )
    # The library logs to stdout, which carries this script's JSON lines.
    for handler in logging.getLogger("WebSocketClient").handlers:
        handler.setStream(sys.stderr)
    counts = {}
    closing = False

    async def handle(messages):
        nonlocal closing
        for message in messages:
            fields = dataclasses.asdict(message)
            fields["class"] = type(message).__name__
            print(json.dumps(fields), flush=True)
            kind = fields.get("event_type")
            counts[kind] = counts.get(kind, 0) + 1
        if not closing and all(counts.get(kind, 0) >= n for kind, n in want.items()):
            closing = True
            await client.close()

    try:
        await asyncio.wait_for(client.connect(handle), float(seconds))
    except AuthError as error:
        print(json.dumps({"class": "AuthError", "message": str(error)}), flush=True)
        return 3
    except asyncio.TimeoutError:
        print(json.dumps({"class": "Timeout", "counts": counts}), flush=True)
    return 0


sys.exit(asyncio.run(main()))

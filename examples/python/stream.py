#!/usr/bin/env python3
"""Streams ticks from a Tickstream gateway's WebSocket protocol, one JSON tick
per line, and resumes where it left off when the connection drops: it keeps
the next offset of every partition it has read and sends them as `resume`
when it reconnects, so no tick is missed or repeated (a `gap` frame, on
stderr, says when the gateway no longer holds what was missed).

    python stream.py --url ws://127.0.0.1:8080/ws --symbols AAPL,MSFT [--api-key KEY]

`--count N` stops after N ticks; `--drop-after N` closes the connection once
after N ticks and resumes (to see resume at work).
"""

import argparse
import asyncio
import json
import sys

import websockets


async def stream(url, symbols, api_key, count, drop_after):
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    positions = {}  # partition -> next offset
    received = 0
    dropped = False
    while count is None or received < count:
        try:
            async with websockets.connect(url, additional_headers=headers) as socket:
                subscribe = {"op": "subscribe", "symbols": symbols}
                if positions:
                    subscribe["resume"] = {str(p): o for p, o in positions.items()}
                await socket.send(json.dumps(subscribe))
                async for text in socket:
                    frame = json.loads(text)
                    kind = frame["type"]
                    if kind == "ticks":
                        for tick in frame["data"]:
                            positions[tick["partition"]] = tick["offset"] + 1
                            print(json.dumps(tick), flush=True)
                            received += 1
                            if count is not None and received >= count:
                                return
                    elif kind == "gap":
                        print(f"gap: {json.dumps(frame)}", file=sys.stderr, flush=True)
                    elif kind == "error":
                        sys.exit(f"refused: {frame['code']}: {frame['message']}")
                    if drop_after is not None and received >= drop_after and not dropped:
                        dropped = True
                        print(f"dropping the connection after {received} ticks", file=sys.stderr, flush=True)
                        break
        except websockets.InvalidStatus as refused:
            sys.exit(f"refused: HTTP {refused.response.status_code}")
        except (websockets.ConnectionClosed, OSError) as error:
            print(f"reconnecting after: {error}", file=sys.stderr, flush=True)
            await asyncio.sleep(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="ws://127.0.0.1:8080/ws")
    parser.add_argument("--symbols", default="*", help="comma-separated; * for all")
    parser.add_argument("--api-key")
    parser.add_argument("--count", type=int)
    parser.add_argument("--drop-after", type=int)
    args = parser.parse_args()
    symbols = args.symbols.split(",")
    asyncio.run(stream(args.url, symbols, args.api_key, args.count, args.drop_after))


if __name__ == "__main__":
    main()

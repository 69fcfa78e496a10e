#!/usr/bin/env python3
"""Reads and changes a Tickstream daemon through REST and GraphQL, with the
standard library only: a symbol's candles both ways (the same), a watchlist
made through a GraphQL mutation and read back through REST, and a refusal
that names the field. Prints a JSON summary.

    python api.py --url http://127.0.0.1:8080 [--api-key KEY] [--symbol AAPL]
"""

import argparse
import json
import sys
import urllib.error
import urllib.request


class Daemon:
    def __init__(self, url, api_key):
        self.url = url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def request(self, method, path, body=None):
        """The status and JSON answer of one request."""
        data = None if body is None else json.dumps(body).encode()
        headers = dict(self.headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request) as response:
                text = response.read()
                return response.status, json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def graphql(self, query, variables=None):
        """The `data` of a GraphQL operation; its errors raise."""
        status, answer = self.request("POST", "/graphql", {"query": query, "variables": variables or {}})
        if status != 200 or answer.get("errors"):
            raise RuntimeError(f"GraphQL {status}: {answer}")
        return answer["data"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--api-key")
    parser.add_argument("--symbol", default="AAPL")
    args = parser.parse_args()
    daemon = Daemon(args.url, args.api_key)

    status, rest_candles = daemon.request("GET", f"/api/v1/candles?symbol={args.symbol}&interval=1m&limit=5")
    if status != 200:
        sys.exit(f"GET /api/v1/candles: {status} {rest_candles}")
    data = daemon.graphql(
        "query ($s: Symbol!) { candles(symbol: $s, interval: \"1m\", limit: 5) { start close volume closed } }",
        {"s": args.symbol},
    )
    closed = lambda candles: [(c["close"], c["volume"]) for c in candles if c["closed"]]

    made = daemon.graphql(
        "mutation ($w: JSON!) { createWatchlist(watchlist: $w) { id name symbols } }",
        {"w": {"name": "Example", "symbols": [args.symbol]}},
    )["createWatchlist"]
    status, lists = daemon.request("GET", "/api/v1/watchlists")
    kept = any(w["id"] == int(made["id"]) and w["symbols"] == [args.symbol] for w in lists)
    daemon.graphql("mutation ($id: ID!) { deleteWatchlist(id: $id) }", {"id": made["id"]})

    status, refusal = daemon.request("POST", "/api/v1/watchlists", {"name": "Bad", "symbols": [args.symbol, "ZZZZ"]})
    print(json.dumps({
        "candles": len(rest_candles),
        "closed_candles_agree": closed(rest_candles) == closed(data["candles"]),
        "watchlist_made_by_graphql_seen_by_rest": kept,
        "refusal": {"status": status, **refusal["error"]},
    }))


if __name__ == "__main__":
    main()

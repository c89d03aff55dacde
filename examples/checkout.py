#!/usr/bin/env python3
"""examples/checkout.py - a storefront's checkout against `perk serve`, in Python (standard library only).

    python3 examples/checkout.py URL KEY ORDER_ID CUSTOMER_ID

Prices a one-line cart (POST /v1/evaluate), reserves its promotions and coupons for 10 minutes
at checkout (POST /v1/reservations), then, once "paid", commits the order against that
reservation (POST /v1/orders?reservation=...) so the customer pays the price shown. Prints one
line per step; exits 1 with the service's error (code, message, JSON path) when a call fails.
tests/service/serve.sh runs it; docs/service.md shows it. KEY needs the checkout scope."""
import datetime
import json
import sys
import urllib.error
import urllib.parse
import urllib.request


class PerkError(Exception):
    """A JSON error answer of perk serve: {"error": {"code", "message", "path"}}."""


def call(base, key, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + key)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as e:
        err = json.load(e).get("error", {})
        raise PerkError(f"{method} {path}: {e.code} {err.get('code')}: {err.get('message')}"
                        f" (at {err.get('path')})") from None


def main():
    base, key, order_id, customer = sys.argv[1:5]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    cart = {
        "order": {"id": order_id, "time": now},
        "customer": {"id": customer},
        "lines": [{"id": "l1", "sku": "T1", "price": "100.00", "quantity": 1}],
    }
    try:
        priced = call(base, key, "POST", "/v1/evaluate?explain=applied", cart)
        print(f"evaluate: payable {priced['payable']} (discount {priced['discount']}, "
              f"version {priced['ruleset_version']})")
        held = call(base, key, "POST", "/v1/reservations?ttl=600", cart)
        print(f"reserve: {held['reservation_id']} payable {held['payable']} until {held['expires_at']}")
        # ... the customer pays ...
        query = urllib.parse.urlencode({"reservation": held["reservation_id"]})
        order = call(base, key, "POST", "/v1/orders?" + query, cart)
        print(f"commit: {order['order_id']} {order['status']} payable {order['payable']} "
              f"reservation_consumed {str(order['reservation_consumed']).lower()} "
              f"points {order['points_earned']}")
    except PerkError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""tests/pg/contest_client.py - one client process of the multi-node contest (tests/pg/contest.sh).

Commits COUNT orders through the HTTP API of several `perk serve` nodes: order k of client C is
"<tag>C-k", customer c<(C*COUNT+k) % 40>, coupon CLUB-<(C+k) % 10>, one line of 100.00. Every
second order is first reserved (POST /v1/reservations?ttl=120) and then committed with
?reservation=ID; the others are committed directly (POST /v1/orders). A request that gets no
answer (a node killed, refused connection) or a 5xx is sent again, with the SAME order id, to the
next node: a commit is idempotent by order id, so a retry never doubles an order. The answer to
such a retry may be 200 "already_committed" (the first attempt committed, its answer was lost):
that order is committed once, as one answered 201 "committed". To exercise that path in every
run, each client's third order is first sent and its connection closed unread (an answer lost on
the way back), then sent again. Writes one JSON line per order to OUT: order_id, status, committed
(the answer's status), discount, retries, ms (the answered attempt's latency).
Exit 1 if an order could not be committed within its attempts (OUT says which).

usage: contest_client.py CLIENT COUNT KEY TAG OUT PORT...
"""
import http.client
import json
import sys
import time
from datetime import datetime, timezone

MAX_ATTEMPTS = 200  # per request; a node comes back within a second or two


def main():
    client, count, key, tag, out_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    ports = [int(p) for p in sys.argv[6:]]
    conns = {}
    node = client % len(ports)
    headers = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
    failed = 0

    def request(path, body, lose_first=False):
        """POST body to path on some node; (status, parsed answer, retries, ms). lose_first: send
        it once without reading the answer (the connection closed), as if it were lost."""
        nonlocal node
        retries = 0
        if lose_first:
            try:
                lost = http.client.HTTPConnection("127.0.0.1", ports[node], timeout=10)
                lost.request("POST", path, body=body, headers=headers)
                lost.close()
            except (OSError, http.client.HTTPException):
                pass
            retries += 1
            node = (node + 1) % len(ports)
            time.sleep(0.05)
        while True:
            port = ports[node]
            t0 = time.monotonic()
            try:
                conn = conns.get(port)
                if conn is None:
                    conn = conns[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("POST", path, body=body, headers=headers)
                res = conn.getresponse()
                data = res.read()
                ms = (time.monotonic() - t0) * 1000.0
                if res.status < 500:
                    return res.status, json.loads(data or b"{}"), retries, ms
            except (OSError, http.client.HTTPException, ValueError):
                conns.pop(port, None)
            retries += 1
            if retries >= MAX_ATTEMPTS:
                return 0, {}, retries, 0.0
            node = (node + 1) % len(ports)
            time.sleep(0.02)

    with open(out_path, "w") as out:
        for k in range(1, count + 1):
            oid = "%s%d-%d" % (tag, client, k)
            now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            cart = {
                "order": {"id": oid, "time": now},
                "customer": {"id": "c%d" % ((client * count + k) % 40)},
                "lines": [{"id": "l1", "sku": "T1", "price": "100.00", "quantity": 1}],
                "coupons": ["CLUB-%d" % ((client + k) % 10)],
            }
            body = json.dumps(cart)
            retries = 0
            path = "/v1/orders"
            if k % 2 == 0:
                status, answer, r, _ = request("/v1/reservations?ttl=120", body)
                retries += r
                if status == 201 and answer.get("reservation_id"):
                    path = "/v1/orders?reservation=" + answer["reservation_id"]
            status, answer, r, ms = request(path, body, lose_first=(k == 3))
            retries += r
            rec = {"order_id": oid, "status": status, "discount": answer.get("discount"),
                   "committed": answer.get("status"), "retries": retries, "ms": round(ms, 3)}
            if status not in (200, 201):
                failed += 1
                rec["error"] = answer.get("error")
            out.write(json.dumps(rec) + "\n")
            out.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

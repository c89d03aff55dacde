#!/usr/bin/env python3
"""tests/pg/restart_client.py - one client of the server-restart test (tests/pg/restart.sh).

Commits orders one after another through the HTTP API of several `perk serve` nodes until the file
STOP exists: order k of client C is "<tag>C-k", customer c<(C*1000+k) % 40>, coupon
CLUB-<(C+k) % 10>, one line of 100.00. An order whose commit gets an error (a 503 while the
database is down, no answer) is sent again with the SAME order id, to the next node, until it gets
a 2xx: a commit is idempotent by order id, so the retry lands once (200 "already_committed" if an
earlier attempt did commit). A 4xx ends the order (the test fails it). Writes one JSON line per
ATTEMPT to OUT: order_id, t0 and t1 (wall clock, seconds), status (0 = no answer), code and
message of an error, committed (the answer's status), discount, ms.

usage: restart_client.py CLIENT KEY TAG OUT STOP LIMIT PORT...   (LIMIT: the nodes' --request-timeout)
"""
import http.client
import json
import os
import sys
import time
from datetime import datetime, timezone

MAX_ATTEMPTS = 2000  # per order: the database is down for a few seconds, attempts are 50 ms apart


def main():
    client, key, tag, out_path, stop, limit = (int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4],
                                               sys.argv[5], float(sys.argv[6]))
    timeout = limit + 5  # longer than any answer may take: a slower one is seen, not cut
    idle = limit - 1
    ports = [int(p) for p in sys.argv[7:]]
    conns = {}
    node = client % len(ports)
    headers = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
    failed = 0

    with open(out_path, "w") as out:
        k = 0
        while not os.path.exists(stop):
            k += 1
            oid = "%s%d-%d" % (tag, client, k)
            now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            body = json.dumps({
                "order": {"id": oid, "time": now},
                "customer": {"id": "c%d" % ((client * 1000 + k) % 40)},
                "lines": [{"id": "l1", "sku": "T1", "price": "100.00", "quantity": 1}],
                "coupons": ["CLUB-%d" % ((client + k) % 10)],
            })
            for _ in range(MAX_ATTEMPTS):
                port = ports[node]
                t0 = time.time()
                rec = {"order_id": oid, "t0": t0, "status": 0, "node": port}
                try:
                    conn, used = conns.get(port, (None, 0.0))
                    if conn is not None and t0 - used > idle:
                        # the node closes a connection idle for its request time limit: a request
                        # sent just then would meet the close, which is no answer of the node's
                        conn.close()
                        conn = None
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
                    conns[port] = (conn, t0)
                    conn.request("POST", "/v1/orders", body=body, headers=headers)
                    res = conn.getresponse()
                    data = res.read()
                    rec["status"] = res.status
                    answer = json.loads(data or b"{}")
                    if res.status >= 400:
                        err = answer.get("error") or {}
                        rec["code"] = err.get("code") if isinstance(err, dict) else err
                        rec["message"] = err.get("message") if isinstance(err, dict) else answer.get("message")
                    else:
                        rec["committed"] = answer.get("status")
                        rec["discount"] = answer.get("discount")
                except (OSError, http.client.HTTPException, ValueError) as e:
                    conns.pop(port, None)
                    rec["message"] = "no answer: %s" % e
                rec["t1"] = time.time()
                rec["ms"] = round((rec["t1"] - t0) * 1000.0, 3)
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
                out.flush()
                if 200 <= rec["status"] < 300:
                    break
                if 400 <= rec["status"] < 500:
                    failed += 1
                    break
                node = (node + 1) % len(ports)
                time.sleep(0.05)
            else:
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""tests/service/webhook_receiver.py SECRET_FILE OUT_FILE - a webhook endpoint for
tests/service/serve.sh: prints its port, answers the first delivery with 500 (so the sender must
retry), then checks each X-Perk-Signature (HMAC-SHA256 of "timestamp.body") and appends
"<event id> <header id> good|bad" per accepted delivery to OUT_FILE."""
import hashlib
import hmac
import http.server
import json
import sys

secret = open(sys.argv[1], "rb").read().strip()
out = open(sys.argv[2], "a", encoding="utf-8")
seen = {"n": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        seen["n"] += 1
        if seen["n"] == 1:
            self.send_response(500)
            self.end_headers()
            return
        ts = self.headers.get("X-Perk-Timestamp", "")
        want = "sha256=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        good = hmac.compare_digest(want, self.headers.get("X-Perk-Signature", ""))
        event = json.loads(body)
        out.write(f"{event['id']} {self.headers.get('X-Perk-Event-Id')} {'good' if good else 'bad'}\n")
        out.flush()
        self.send_response(204 if good else 401)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()

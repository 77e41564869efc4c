#!/usr/bin/env python3
"""A counting HTTP proxy in front of a DynamoDB endpoint (moto_server): forwards every request
and counts, per operation, the calls and the capacity units DynamoDB on-demand would bill,
computed from the request and response bodies by DynamoDB's published rules (moto's own
ConsumedCapacity figures are constants). Independent of the code under test.

Units:
- write: PutItem / BatchWriteItem put: ceil(item size / 1 KB); UpdateItem: ceil(the larger of
  the item's size before and after / 1 KB), as DynamoDB bills it (the proxy reads the item
  from the upstream before and after the update, uncounted); DeleteItem and a batch delete: 1;
  TransactWriteItems: twice the units of its items.
- index writes (reported apart): one per item written that carries a global secondary
  index's partition key attribute (`--index-key`, repeatable), per index; for an update, one
  per index whose key the item has before or after it.
- read: GetItem / Query: ceil(bytes returned / 4 KB), at least one unit, halved unless
  ConsistentRead; the GSI queries are eventually consistent.

Usage: dynamodb_counting_proxy.py --port P --upstream http://127.0.0.1:M [--index-key list_pk ...]
GET /__counts answers the totals as JSON; POST /__reset zeroes them.

Fault injection (off by default; POST /__faults with a JSON body of the same names sets them at
run time, `{}` turns them off): a fraction of DynamoDB calls, drawn from a seeded generator, is
- `throttle`: refused with 400 ThrottlingException, not forwarded (nothing applied);
- `fail`: refused with 500 InternalServerError, not forwarded;
- `lose`: forwarded (applied), then answered 500 InternalServerError (the answer lost);
- `slow`: delayed by `slow_ms` before it is forwarded.
GET /__faults answers how many calls each fault hit.
"""

import argparse
import json
import math
import random
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
COUNTS = {}
FAULTS = {"rates": {}, "slow_ms": 0, "hits": {}, "rng": random.Random(0)}
FAULT_KINDS = ("throttle", "fail", "lose", "slow")


def set_faults(spec):
    with LOCK:
        FAULTS["rates"] = {k: float(spec.get(k, 0)) for k in FAULT_KINDS}
        FAULTS["slow_ms"] = int(spec.get("slow_ms", 200))
        FAULTS["rng"] = random.Random(int(spec.get("seed", 0)))
        FAULTS["hits"] = {k: 0 for k in FAULT_KINDS}


def draw_fault():
    """The fault this call gets (None for most), drawn under the lock so runs are reproducible."""
    with LOCK:
        x = FAULTS["rng"].random()
        for kind in FAULT_KINDS:
            rate = FAULTS["rates"].get(kind, 0)
            if x < rate:
                FAULTS["hits"][kind] += 1
                return kind
            x -= rate
    return None


def error_body(kind):
    if kind == "throttle":
        return 400, {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                     "message": "Rate of requests exceeds the allowed throughput."}
    return 500, {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
                 "message": "Internal server error (injected)"}


def value_size(v):
    """Bytes of one attribute value, as DynamoDB sizes it."""
    (kind, x), = v.items()
    if kind == "S":
        return len(x.encode())
    if kind == "N":
        digits = len(x.lstrip("-").replace(".", "").strip("0")) or 1
        return math.ceil(digits / 2) + 1
    if kind == "B":
        return math.ceil(len(x) * 3 / 4)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(e) for k, e in x.items())
    if kind == "L":
        return 3 + sum(1 + value_size(e) for e in x)
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: e}) for e in x)
    raise ValueError(kind)


def item_size(item):
    return sum(len(k.encode()) + value_size(v) for k, v in item.items())


def add(op, calls=0, wcu=0.0, index_wcu=0.0, rcu=0.0):
    with LOCK:
        c = COUNTS.setdefault(op, {"calls": 0, "wcu": 0.0, "index_wcu": 0.0, "rcu": 0.0})
        c["calls"] += calls
        c["wcu"] += wcu
        c["index_wcu"] += index_wcu
        c["rcu"] += rcu


def put_units(item, index_keys):
    return math.ceil(max(item_size(item), 1) / 1024), sum(1 for k in index_keys if k in item)


def update_units(before, after, index_keys):
    size = max(item_size(before or {}), item_size(after or {}), 1)
    touches = sum(1 for k in index_keys if k in (before or {}) or k in (after or {}))
    return math.ceil(size / 1024), touches


def read_units(nbytes, consistent):
    units = max(1, math.ceil(nbytes / 4096))
    return units if consistent else units / 2


def count(op, req, resp, index_keys, images):
    """`images`: for each updated item, in request order, its (before, after) items."""
    if op == "PutItem":
        w, i = put_units(req["Item"], index_keys)
        add(op, 1, w, i)
    elif op == "UpdateItem":
        w, i = update_units(*images[0], index_keys)
        add(op, 1, w, i)
    elif op == "DeleteItem":
        add(op, 1, 1, 0)
    elif op == "BatchWriteItem":
        w = i = 0
        for requests in req["RequestItems"].values():
            for r in requests:
                if "PutRequest" in r:
                    pw, pi = put_units(r["PutRequest"]["Item"], index_keys)
                    w, i = w + pw, i + pi
                else:
                    w += 1
        add(op, 1, w, i)
    elif op == "TransactWriteItems":
        w = i = 0
        updated = iter(images)
        for t in req["TransactItems"]:
            if "Put" in t:
                pw, pi = put_units(t["Put"]["Item"], index_keys)
            elif "Update" in t:
                pw, pi = update_units(*next(updated), index_keys)
            else:
                pw, pi = 1, 0
            w, i = w + 2 * pw, i + pi
        add(op, 1, w, i)
    elif op == "GetItem":
        size = item_size(resp.get("Item", {}))
        add(op, 1, rcu=read_units(size, req.get("ConsistentRead", False)))
    elif op in ("Query", "Scan"):
        size = sum(item_size(it) for it in resp.get("Items", []))
        add(op, 1, rcu=read_units(size, req.get("ConsistentRead", False)))
    else:
        add(op, 1)


class Proxy(BaseHTTPRequestHandler):
    upstream = ""
    images = True
    index_keys = []

    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/__faults":
            with LOCK:
                body = json.dumps(FAULTS["hits"], sort_keys=True).encode()
            return self.answer(200, body, [("Content-Type", "application/json")])
        if self.path == "/__counts":
            with LOCK:
                body = json.dumps(COUNTS, sort_keys=True).encode()
            return self.answer(200, body, [("Content-Type", "application/json")])
        self.forward(b"")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/__reset":
            with LOCK:
                COUNTS.clear()
            return self.answer(204, b"")
        if self.path == "/__faults":
            set_faults(json.loads(body or b"{}"))
            return self.answer(204, b"")
        self.forward(body)

    def call(self, method, path, body, headers):
        req = urllib.request.Request(self.upstream + path, data=body or None,
                                     headers=headers, method=method)
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, r.read(), r.getheaders()
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers.items()

    def get_item(self, headers, table, key):
        """The stored item at `key` (None when absent), read uncounted."""
        h = dict(headers, **{"X-Amz-Target": "DynamoDB_20120810.GetItem"})
        payload = json.dumps({"TableName": table, "Key": key, "ConsistentRead": True}).encode()
        status, out, _ = self.call("POST", "/", payload, h)
        return json.loads(out).get("Item") if status == 200 else None

    def updated_keys(self, op, req):
        if op == "UpdateItem":
            return [(req["TableName"], req["Key"])]
        if op == "TransactWriteItems":
            return [(t["Update"]["TableName"], t["Update"]["Key"])
                    for t in req.get("TransactItems", []) if "Update" in t]
        return []

    def forward(self, body):
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        target = self.headers.get("X-Amz-Target", "")
        op = target.split(".", 1)[1] if target.startswith("DynamoDB_") else ""
        req = json.loads(body or b"{}") if op else {}
        fault = draw_fault() if op else None
        if fault in ("throttle", "fail"):
            status, payload = error_body(fault)
            return self.answer(status, json.dumps(payload).encode(),
                               [("Content-Type", "application/x-amz-json-1.0")])
        if fault == "slow":
            time.sleep(FAULTS["slow_ms"] / 1000)
        keys = self.updated_keys(op, req) if self.images else []
        before = [self.get_item(headers, *k) for k in keys]
        status, out, out_headers = self.call(self.command, self.path, body, headers)
        if fault == "lose":
            status, payload = error_body(fault)
            return self.answer(status, json.dumps(payload).encode(),
                               [("Content-Type", "application/x-amz-json-1.0")])
        if op and status == 200:
            images = list(zip(before, [self.get_item(headers, *k) for k in keys]))
            if not self.images:
                images = [({}, {})] * len(self.updated_keys(op, req))
            count(op, req, json.loads(out or b"{}"), self.index_keys, images)
        elif op:
            # A failed call (a lost condition) is billed too: one unit, counted as such.
            add(op, 1, wcu=1 if op in ("PutItem", "UpdateItem", "DeleteItem") else 0)
        skip = ("content-length", "transfer-encoding", "connection", "server", "date")
        self.answer(status, out, [(k, v) for k, v in out_headers if k.lower() not in skip])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--index-key", action="append",
                    default=None, help="a GSI partition key attribute (default: this table's four)")
    for kind in FAULT_KINDS:
        ap.add_argument("--" + kind, type=float, default=0.0, help="fraction of calls: " + kind)
    ap.add_argument("--slow-ms", type=int, default=200)
    ap.add_argument("--no-images", action="store_true",
                    help="do not read items around updates (bill each update 1 unit): for big runs")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    set_faults({"throttle": a.throttle, "fail": a.fail, "lose": a.lose, "slow": a.slow,
                "slow_ms": a.slow_ms, "seed": a.seed})
    Proxy.upstream = a.upstream.rstrip("/")
    Proxy.images = not a.no_images
    Proxy.index_keys = a.index_key or ["list_pk", "alert_feed", "alert_project", "pending"]
    ThreadingHTTPServer(("127.0.0.1", a.port), Proxy).serve_forever()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""s3_fault_proxy.py — an HTTP proxy that puts faults between lakesync and an
S3 server, for tests (tests/scenario/s3_warehouse.sh).

    s3_fault_proxy.py --target http://127.0.0.1:PORT [--rate R] [--seed N]
                      [--max-delay-ms MS] [--kinds K[,K...]] [--conditional-once]
                      [--strip-if-none-match]

Listens on a free port of 127.0.0.1 (printed as the first line of stdout)
and forwards every request to --target.  With probability R (default 0.2) a
request meets one fault, picked at random:

  503        answered 503 SlowDown without forwarding
  500        answered 500 InternalError without forwarding
  500-after  forwarded (so applied), then answered 500: a lost answer
  reset      the connection closed without forwarding
  reset-after  forwarded, then the connection closed unanswered
  truncate   forwarded, then the answer cut off halfway through its body
             (an answer without a body is not sent at all)
  delay      forwarded after a pause of up to --max-delay-ms (default 300)

--kinds limits the faults to those named.  --conditional-once puts faults
only in requests that carry If-None-Match, and in each object's first such
request only (so with --rate 1 every conditional write meets one fault).

--strip-if-none-match drops the If-None-Match header before forwarding, as
an S3-compatible server that ignores it would behave (the signature is not
checked by the test server).

GET /__proxy/stats answers JSON counters: requests, forwarded, and one per
fault kind.  Runs until killed.  Standard library only.
"""
import argparse
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ["503", "500", "500-after", "reset", "reset-after", "truncate", "delay"]
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.rng = random.Random(args.seed)
        self.rate = args.rate
        self.kinds = args.kinds.split(",") if args.kinds else FAULTS
        self.conditional_once = args.conditional_once
        self.seen = set()
        self.max_delay = args.max_delay_ms / 1000.0
        self.strip = args.strip_if_none_match
        url = urllib.parse.urlparse(args.target)
        self.host, self.port = url.hostname, url.port or 80
        self.counts = dict({"requests": 0, "forwarded": 0}, **{f: 0 for f in FAULTS})

    def pick(self, conditional, path):
        with self.lock:
            self.counts["requests"] += 1
            if self.conditional_once:
                if not conditional or path in self.seen:
                    return None, 0.0
                self.seen.add(path)
            if self.rng.random() >= self.rate:
                return None, 0.0
            fault = self.rng.choice(self.kinds)
            self.counts[fault] += 1
            return fault, self.rng.random() * self.max_delay

    def count(self, name):
        with self.lock:
            self.counts[name] += 1


def error_xml(code, message):
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message>"
            "<RequestId>fault-proxy</RequestId></Error>" % (code, message)).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def answer(self, status, headers, body, send_body=True):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)

    def error(self, status, code, message):
        body = error_xml(code, message)
        self.answer(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))], body,
                    self.command != "HEAD")

    def forward(self, body):
        st = self.server.state
        headers = {}
        for k, v in self.headers.items():
            if k.lower() in HOP or (st.strip and k.lower() == "if-none-match"):
                continue
            headers[k] = v
        conn = http.client.HTTPConnection(st.host, st.port, timeout=60)
        try:
            conn.request(self.command, self.path, body=body if body else None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            out = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP and k.lower() != "content-length"]
            length = resp.getheader("Content-Length")
            if self.command == "HEAD":
                out.append(("Content-Length", length if length is not None else "0"))
            else:
                out.append(("Content-Length", str(len(data))))
            st.count("forwarded")
            return resp.status, out, data
        finally:
            conn.close()

    def handle_any(self):
        st = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/__proxy/stats":
            with st.lock:
                data = json.dumps(st.counts).encode()
            return self.answer(200, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))], data)
        fault, pause = st.pick(self.headers.get("If-None-Match") is not None, self.path.split("?")[0])
        if fault == "503":
            return self.error(503, "SlowDown", "Please reduce your request rate (fault proxy)")
        if fault == "500":
            return self.error(500, "InternalError", "We encountered an internal error (fault proxy)")
        if fault == "reset":
            self.close_connection = True
            return
        if fault == "delay":
            time.sleep(pause)
        try:
            status, headers, data = self.forward(body)
        except (OSError, http.client.HTTPException) as e:
            return self.error(502, "BadGateway", "fault proxy: upstream failed: %s" % e)
        if fault == "500-after":
            return self.error(500, "InternalError", "We encountered an internal error (fault proxy)")
        if fault == "reset-after":
            self.close_connection = True
            return
        if fault == "truncate":
            if self.command != "HEAD" and len(data) >= 2:
                self.answer(status, headers, data[:len(data) // 2])
            self.close_connection = True
            return
        self.answer(status, headers, data, self.command != "HEAD")

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True, help="the S3 server, http://host:port")
    ap.add_argument("--rate", type=float, default=0.2, help="share of requests that meet a fault")
    ap.add_argument("--seed", type=int, default=None, help="random seed")
    ap.add_argument("--max-delay-ms", type=int, default=300, help="longest pause of a delay fault")
    ap.add_argument("--kinds", default=None, help="comma-separated fault kinds to pick from (default: all)")
    ap.add_argument("--conditional-once", action="store_true",
                    help="faults only in the first If-None-Match request of each object")
    ap.add_argument("--strip-if-none-match", action="store_true", help="forward without If-None-Match")
    args = ap.parse_args()
    if args.kinds and not set(args.kinds.split(",")) <= set(FAULTS):
        ap.error("--kinds: pick from " + ",".join(FAULTS))
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.state = State(args)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())

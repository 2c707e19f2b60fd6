#!/usr/bin/env python3
"""cred_standin.py — a stand-in for the AWS credential endpoints, for tests.

Serves on 127.0.0.1 (a free port, printed as the first line of stdout):
  GET  /creds                  container credentials (ECS/EKS style); the
                               Authorization header must equal --token
  PUT  /latest/api/token       IMDSv2 session token (needs the
                               X-aws-ec2-metadata-token-ttl-seconds header)
  GET  /latest/meta-data/iam/security-credentials/[ROLE]
                               IMDSv2 role name / role credentials (needs a
                               token issued above)
  GET  /stats                  JSON counters of credentials issued, requests,
                               connections, stored objects and open uploads
  POST /config?expiry=SECONDS  lifetime of the credentials issued next
  *    /fault/KEY               a scripted S3 bucket "fault" (path style):
                               each request takes the next outcome queued by
  POST /script?codes=503,500s,reset,200
                               (a status; "500s" performs the request and
                               still answers 500, as if the response were
                               lost; "reset" closes the connection unanswered;
                               an empty queue answers 200).  GET/HEAD serve
                               stored bodies, PUT stores (412 with
                               If-None-Match: * when the key exists), DELETE
                               removes; multipart uploads work, with S3's
                               ETags, and are listed two a page.
  *    /lax/KEY                 a bucket "lax" like "fault" (the same script)
                               that ignores If-None-Match, as some
                               S3-compatible servers do.

Every set of credentials gets a new key id (ASIACONTAINER0001, ASIAIMDS0001,
...) so a test can tell a refresh happened.  Runs until killed.
"""
import argparse
import datetime
import hashlib
import json
import secrets
import sys
import threading
import urllib.parse
from xml.sax.saxutils import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROLE = "lakesync-role"


class State:
    def __init__(self, token, expiry):
        self.lock = threading.Lock()
        self.token = token
        self.expiry = expiry
        self.counts = {"container": 0, "imds_token": 0, "imds_creds": 0, "refused": 0,
                       "fault_requests": 0, "connections": 0}
        self.imds_tokens = set()
        self.script = []
        self.objects = {}
        self.etags = {}
        self.uploads = {}
        self.upload_meta = {}  # upload id -> (key, Initiated)
        self.upload_seq = 0

    def issue(self, kind, prefix):
        with self.lock:
            self.counts[kind] += 1
            n = self.counts[kind]
            exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=self.expiry)
        return {
            "AccessKeyId": "%s%04d" % (prefix, n),
            "SecretAccessKey": secrets.token_hex(20),
            "Token": "session-%s-%d" % (prefix.lower(), n),
            "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


ERROR_CODES = {301: "PermanentRedirect", 400: "RequestTimeout", 403: "AccessDenied", 404: "NoSuchKey", 409: "ConditionalRequestConflict",
               412: "PreconditionFailed", 500: "InternalError", 503: "SlowDown"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        with self.server.state.lock:
            self.server.state.counts["connections"] += 1

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def error(self, method, status, code, key):
        xml = ("<Error><Code>%s</Code><Message>scripted %d</Message><Key>%s</Key></Error>" % (
            code, status, key)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(xml)))
        if status == 301:  # a bucket in another region
            self.send_header("x-amz-bucket-region", "eu-west-1")
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(xml)

    def perform(self, method, key, query, data, conditional):
        """The bucket's normal answer: (status, headers, body) or an error
        (status, code).  conditional: If-None-Match: * is to be honoured."""
        st = self.server.state
        with st.lock:
            if conditional and method in ("PUT", "POST") and key in st.objects and (
                    method == "PUT" or "uploadId" in query):
                return 412, "PreconditionFailed"
            if method == "POST" and "uploads" in query:
                st.upload_seq += 1
                uid = "upload-%d" % st.upload_seq
                st.uploads[uid] = {}
                now = datetime.datetime.now(datetime.timezone.utc)
                st.upload_meta[uid] = (key, now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000))
                return 200, {}, ("<InitiateMultipartUploadResult><UploadId>%s</UploadId>"
                                 "</InitiateMultipartUploadResult>" % uid).encode()
            if method == "GET" and "uploads" in query:
                # ListMultipartUploads, two uploads a page (the client must
                # follow the markers)
                bucket = key.split("/")[0] + "/"
                prefix = bucket + query.get("prefix", [""])[0]
                kmark = query.get("key-marker", [""])[0]
                ups = sorted((k, uid, t) for uid, (k, t) in st.upload_meta.items() if k.startswith(prefix))
                if kmark:
                    ups = [u for u in ups if (u[0], u[1]) > (bucket + kmark, query.get("upload-id-marker", [""])[0])]
                page = ups[:2]
                xml = "".join("<Upload><Key>%s</Key><UploadId>%s</UploadId><Initiated>%s</Initiated></Upload>"
                              % (escape(k[len(bucket):]), uid, t) for k, uid, t in page)
                if len(ups) > 2:
                    xml += ("<IsTruncated>true</IsTruncated><NextKeyMarker>%s</NextKeyMarker>"
                            "<NextUploadIdMarker>%s</NextUploadIdMarker>" % (escape(page[-1][0][len(bucket):]),
                                                                              page[-1][1]))
                else:
                    xml += "<IsTruncated>false</IsTruncated>"
                return 200, {}, ("<ListMultipartUploadsResult>%s</ListMultipartUploadsResult>" % xml).encode()
            if "uploadId" in query:
                uid = query["uploadId"][0]
                if uid not in st.uploads:
                    return 404, "NoSuchUpload"
                if method == "PUT":
                    st.uploads[uid][int(query["partNumber"][0])] = data
                    return 200, {"ETag": '"%s"' % hashlib.md5(data).hexdigest()}, b""
                if method == "DELETE":
                    del st.uploads[uid]
                    del st.upload_meta[uid]
                    return 204, {}, b""
                parts = [st.uploads[uid][n] for n in sorted(st.uploads[uid])]
                del st.uploads[uid]
                del st.upload_meta[uid]
                st.objects[key] = b"".join(parts)
                st.etags[key] = "%s-%d" % (
                    hashlib.md5(b"".join(hashlib.md5(x).digest() for x in parts)).hexdigest(), len(parts))
                return 200, {}, b"<CompleteMultipartUploadResult></CompleteMultipartUploadResult>"
            if method == "PUT":
                st.objects[key] = data
                st.etags[key] = hashlib.md5(data).hexdigest()
                return 200, {"ETag": '"%s"' % st.etags[key]}, b""
            if method == "DELETE":
                st.objects.pop(key, None)
                return 204, {}, b""
            obj = st.objects.get(key)
            if obj is None:
                return 404, "NoSuchKey"
            return 200, {"ETag": '"%s"' % st.etags[key], "Content-Type": "application/octet-stream"}, obj

    def fault(self, method):
        """The scripted buckets: path /fault/KEY or /lax/KEY."""
        st = self.server.state
        data = self.body() if method in ("PUT", "POST") else b""
        url = urllib.parse.urlparse(self.path)
        bucket = url.path.split("/")[1]
        key = urllib.parse.unquote(url.path[len(bucket) + 2:])  # "" for the bucket itself
        conditional = bucket == "fault" and self.headers.get("If-None-Match") == "*"
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        with st.lock:
            st.counts["fault_requests"] += 1
            step = st.script.pop(0) if st.script else "200"
        if step == "reset":
            self.close_connection = True
            return
        if step not in ("200", "500s"):
            status = int(step)
            return self.error(method, status, ERROR_CODES.get(status, "Error"), key)
        result = self.perform(method, bucket + "/" + key, query, data, conditional)
        if step == "500s":  # applied, but the answer is an error
            return self.error(method, 500, "InternalError", key)
        if len(result) == 2:
            return self.error(method, result[0], result[1], key)
        status, headers, body = result
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        if self.path.startswith(("/fault/", "/lax/", "/fault?", "/lax?")):
            return self.fault("HEAD")
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_DELETE(self):
        if self.path.startswith(("/fault/", "/lax/", "/fault?", "/lax?")):
            return self.fault("DELETE")
        self.reply(404, "not found", "text/plain")

    def reply(self, status, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def refuse(self, status, why):
        with self.server.state.lock:
            self.server.state.counts["refused"] += 1
        self.reply(status, why, "text/plain")

    def imds_ok(self):
        tok = self.headers.get("X-aws-ec2-metadata-token")
        with self.server.state.lock:
            return tok in self.server.state.imds_tokens

    def do_GET(self):
        st = self.server.state
        path = urllib.parse.urlparse(self.path).path
        if path in ("/fault", "/lax") or path.startswith(("/fault/", "/lax/")):
            return self.fault("GET")
        if path == "/stats":
            with st.lock:
                return self.reply(200, json.dumps(dict(st.counts, uploads=len(st.uploads), objects=len(st.objects))))
        if path == "/creds":
            if st.token is not None and self.headers.get("Authorization") != st.token:
                return self.refuse(403, "bad authorization token")
            return self.reply(200, json.dumps(st.issue("container", "ASIACONTAINER")))
        base = "/latest/meta-data/iam/security-credentials/"
        if path.startswith(base):
            if not self.imds_ok():
                return self.refuse(401, "missing or unknown IMDSv2 token")
            role = path[len(base):]
            if role == "":
                return self.reply(200, ROLE + "\n", "text/plain")
            if role != ROLE:
                return self.reply(404, "no such role", "text/plain")
            body = st.issue("imds_creds", "ASIAIMDS")
            body.update({"Code": "Success", "Type": "AWS-HMAC", "LastUpdated": "2024-01-01T00:00:00Z"})
            return self.reply(200, json.dumps(body))
        self.reply(404, "not found", "text/plain")

    def do_PUT(self):
        st = self.server.state
        if self.path.startswith(("/fault/", "/lax/", "/fault?", "/lax?")):
            return self.fault("PUT")
        self.body()
        if self.path == "/latest/api/token":
            if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                return self.refuse(400, "missing ttl header")
            tok = "imds-" + secrets.token_hex(8)
            with st.lock:
                st.imds_tokens.add(tok)
                st.counts["imds_token"] += 1
            return self.reply(200, tok, "text/plain")
        self.reply(404, "not found", "text/plain")

    def do_POST(self):
        st = self.server.state
        if self.path.startswith(("/fault/", "/lax/", "/fault?", "/lax?")):
            return self.fault("POST")
        self.body()
        url = urllib.parse.urlparse(self.path)
        if url.path == "/script":
            q = urllib.parse.parse_qs(url.query)
            with st.lock:
                st.script = [c for c in q.get("codes", [""])[0].split(",") if c]
            return self.reply(200, "{}")
        if url.path == "/config":
            q = urllib.parse.parse_qs(url.query)
            with st.lock:
                if "expiry" in q:
                    st.expiry = int(q["expiry"][0])
            return self.reply(200, "{}")
        self.reply(404, "not found", "text/plain")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--token", default=None, help="container Authorization value to require")
    ap.add_argument("--expiry", type=int, default=3600, help="credential lifetime in seconds")
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.state = State(args.token, args.expiry)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())

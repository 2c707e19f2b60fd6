#!/usr/bin/env python3
"""sasl_standin.py — a stand-in Kafka broker that checks MSK IAM tokens, for tests.

usage: sasl_standin.py REGION ACCESS_KEY SECRET_KEY

Listens on 127.0.0.1 (a free port, printed as the first line of stdout) and
answers, on each connection, ApiVersions, SaslHandshake (OAUTHBEARER only)
and SaslAuthenticate; any other request closes the connection (there are no
topics here).  The SASL/OAUTHBEARER client response
("n,,\\x01auth=Bearer TOKEN\\x01\\x01", RFC 7628) must carry a token that
decodes to https://kafka.REGION.amazonaws.com/?Action=kafka-cluster:Connect
presigned for ACCESS_KEY, signed within the last 15 minutes (as MSK checks
X-Amz-Date and X-Amz-Expires=900), whose signature equals the one botocore
computes with SECRET_KEY for the same signing time, session token and
User-Agent (tests/tools/msk_token.py).  Each verdict is printed as a line:
"ok ACCESS_KEY" or "refused WHY".  Runs until killed.

Exit status 3 when botocore cannot be imported.
"""
import base64
import datetime
import os
import socket
import struct
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import msk_token  # noqa: E402  (exits 3 without botocore)

API_SASL_HANDSHAKE = 17
API_VERSIONS = 18
API_SASL_AUTHENTICATE = 36
# (key, min, max) answered to ApiVersions
SUPPORTED = [(API_VERSIONS, 0, 0), (API_SASL_HANDSHAKE, 0, 1), (API_SASL_AUTHENTICATE, 0, 0)]
UNSUPPORTED_VERSION = 35
UNSUPPORTED_SASL_MECHANISM = 33
SASL_AUTHENTICATION_FAILED = 58

out_lock = threading.Lock()


def say(line):
    with out_lock:
        print(line, flush=True)


def kstring(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def check_token(token, region, access_key, secret):
    """None when the token is good, else why not."""
    try:
        url = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8")
    except ValueError:
        return "token is not base64url"
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" or parts.netloc != "kafka.%s.amazonaws.com" % region or parts.path != "/":
        return "wrong endpoint %s://%s%s" % (parts.scheme, parts.netloc, parts.path)
    q = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    date = q.get("X-Amz-Date", "")
    want = {"Action": "kafka-cluster:Connect", "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": "%s/%s/%s/kafka-cluster/aws4_request" % (access_key, date[:8], region),
            "X-Amz-Expires": "900", "X-Amz-SignedHeaders": "host"}
    for k, v in want.items():
        if q.get(k) != v:
            return "%s is %r, not %r" % (k, q.get(k), v)
    try:
        when = datetime.datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return "bad X-Amz-Date %r" % date
    age = (datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()
    if age > 900 or age < -300:
        return "signed %d s ago (valid for 900 s)" % age
    expect = msk_token.presigned_url(region, access_key, secret, q.get("X-Amz-Security-Token"),
                                     int(when.timestamp()), q.get("User-Agent", ""))
    if expect is None:
        return "cannot recompute the signature here"
    want_sig = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(expect).query)).get("X-Amz-Signature")
    if q.get("X-Amz-Signature") != want_sig:
        return "signature does not match"
    return None


def read_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def serve(conn, region, access_key, secret):
    with conn:
        while True:
            size, = struct.unpack(">i", read_exact(conn, 4))
            req = read_exact(conn, size)
            key, version, corr = struct.unpack(">hhi", req[:8])
            # request header v1/v2: client id (nullable string) after these
            cid_len, = struct.unpack(">h", req[8:10])
            body = req[10 + max(cid_len, 0):]
            if key == API_VERSIONS:
                err = 0 if version == 0 else UNSUPPORTED_VERSION
                resp = struct.pack(">hi", err, len(SUPPORTED))
                resp += b"".join(struct.pack(">hhh", *a) for a in SUPPORTED)
            elif key == API_SASL_HANDSHAKE:
                n, = struct.unpack(">h", body[:2])
                mech = body[2:2 + n].decode()
                resp = struct.pack(">h", 0 if mech == "OAUTHBEARER" else UNSUPPORTED_SASL_MECHANISM)
                resp += struct.pack(">i", 1) + kstring("OAUTHBEARER")
            elif key == API_SASL_AUTHENTICATE:
                n, = struct.unpack(">i", body[:4])
                msg = body[4:4 + n].decode("utf-8", "replace")
                fields = msg.split("\x01")
                auth = [f for f in fields if f.startswith("auth=Bearer ")]
                why = "no auth=Bearer field" if not fields[0].startswith("n,") or len(auth) != 1 \
                    else check_token(auth[0][len("auth=Bearer "):], region, access_key, secret)
                say("refused %s" % why if why else "ok %s" % access_key)
                if why:
                    resp = struct.pack(">h", SASL_AUTHENTICATION_FAILED) + kstring(why) + struct.pack(">i", 0)
                else:
                    resp = struct.pack(">hh", 0, -1) + struct.pack(">i", 0)
            else:
                return
            conn.sendall(struct.pack(">ii", len(resp) + 4, corr) + resp)


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    region, access_key, secret = argv[1:]
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    say(str(srv.getsockname()[1]))

    def one(conn):
        try:
            serve(conn, region, access_key, secret)
        except (EOFError, OSError, struct.error, UnicodeDecodeError):
            pass

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=one, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main(sys.argv))

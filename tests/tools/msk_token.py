#!/usr/bin/env python3
"""msk_token.py — an Amazon MSK IAM token made independently, for tests.

usage: msk_token.py REGION ACCESS_KEY SECRET_KEY SESSION_TOKEN|- UNIX_SECONDS USER_AGENT

Builds the token the way AWS's MSK IAM SASL signer for Python does, with
botocore: a GET of https://kafka.REGION.amazonaws.com/ with
Action=kafka-cluster:Connect presigned by SigV4QueryAuth (service
kafka-cluster, 900 seconds) at the given signing time, a User-Agent query
parameter added after signing, the URL base64url-encoded without padding.
Prints the URL, then the token, one per line.

Exit status 3 when botocore cannot be imported, 4 when the signing time
could not be fixed (the URL's X-Amz-Date differs from the one asked for).
"""
import base64
import datetime
import sys
from unittest import mock

try:
    import botocore.auth
    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError:
    sys.exit(3)


def presigned_url(region, access_key, secret, session, seconds, user_agent):
    """The token's URL (session None: no session token), or None when the
    signing time could not be fixed."""
    creds = Credentials(access_key, secret, session)
    when = datetime.datetime.fromtimestamp(int(seconds), datetime.timezone.utc).replace(tzinfo=None)
    request = AWSRequest(method="GET", url="https://kafka.%s.amazonaws.com/" % region,
                         params={"Action": "kafka-cluster:Connect"})
    signer = SigV4QueryAuth(creds, "kafka-cluster", region, expires=900)
    # botocore reads the clock through get_current_datetime (older releases:
    # datetime.datetime.utcnow)
    if hasattr(botocore.auth, "get_current_datetime"):
        with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
            signer.add_auth(request)
    else:
        class Frozen(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return when
        with mock.patch.object(botocore.auth.datetime, "datetime", Frozen):
            signer.add_auth(request)
    if "X-Amz-Date=%s&" % when.strftime("%Y%m%dT%H%M%SZ") not in request.url:
        return None
    request.params = {"User-Agent": user_agent}
    return request.prepare().url


def main(argv):
    if len(argv) != 7:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    region, access_key, secret, session, seconds, user_agent = argv[1:]
    url = presigned_url(region, access_key, secret, None if session == "-" else session, seconds, user_agent)
    if url is None:
        return 4
    token = base64.urlsafe_b64encode(url.encode("utf-8")).decode("ascii").rstrip("=")
    print(url)
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

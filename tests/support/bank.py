"""A simulated bank: signs one payment notification and POSTs it to a live permitflow.

Run as a separate process by the tests: python -m tests.support.bank URL CHANNEL SECRET BODY
[--bad-signature] [--timestamp-offset SECONDS]. Prints one JSON line: {"status", "body"}.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request


def send(url: str, secret: str, body: bytes, *, bad_signature: bool = False,
         timestamp_offset: int = 0) -> tuple[int, dict]:
    timestamp = str(int(time.time()) + timestamp_offset)
    key = (secret + "x" if bad_signature else secret).encode()
    mac = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "X-Permitflow-Timestamp": timestamp,
        "X-Permitflow-Signature": f"sha256={mac}",
    })
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("secret")
    parser.add_argument("body")
    parser.add_argument("--bad-signature", action="store_true")
    parser.add_argument("--timestamp-offset", type=int, default=0)
    args = parser.parse_args()
    status, body = send(args.url, args.secret, args.body.encode(),
                        bad_signature=args.bad_signature, timestamp_offset=args.timestamp_offset)
    print(json.dumps({"status": status, "body": body}))


if __name__ == "__main__":
    main()

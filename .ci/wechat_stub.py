"""A stand-in for WeChat's server API while schemathesis fuzzes Wuye (.ci/run).

The machine cannot reach api.weixin.qq.com, and a fuzzer has no real wx.login
codes anyway, so every login or phone code is refused the way WeChat refuses
an unknown one (errcode 40029): the server's real WeChat path runs and answers
400, instead of 503 "not configured". Usage: python3 wechat_stub.py PORT
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

INVALID_CODE = {"errcode": 40029, "errmsg": "invalid code"}


class Handler(BaseHTTPRequestHandler):
    def answer(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = urlsplit(self.path).path
        if path == "/cgi-bin/token":
            self.answer({"access_token": "ci-stub-token", "expires_in": 7200})
        else:
            self.answer(INVALID_CODE)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.answer(INVALID_CODE)

    def log_message(self, *args) -> None:  # quiet: the CI log is for failures
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()

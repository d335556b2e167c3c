"""A scripted stand-in for Centrifugo's HTTP API, for the external Centrifugo sink's tests.

Requests are answered by plan, one step per request (the last step repeats):
    ok       the answer Centrifugo gives (`{"result":{}}`, `{"replies":[...]}`, or one line per command)
    500      HTTP 500
    error    HTTP 200 with an `{"error": ...}` reply (in every batch reply / legacy line), code 100
    unknown  the same with code 102 (unknown channel: no namespace for it), which no retry mends
    hang     reads the request and never answers (until the client gives up)
    401      HTTP 401, empty body (a wrong key)

Like Centrifugo, it keeps one publication per idempotency key: `accepted` lists what an accepting
request brought that was new, in arrival order; `requests` records every request.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from timing import scaled


@dataclass
class APIRequest:
    path: str
    headers: dict[str, str]
    publications: list[dict]  # {"channel", "data", "idempotency_key"} in request order
    step: str
    client_port: int  # the connection it came on
    at: float = field(default_factory=time.monotonic)


class ScriptedCentrifugo:
    def __init__(self, plan: list[str]) -> None:
        self.plan = plan or ["ok"]
        self.requests: list[APIRequest] = []
        self.accepted: list[dict] = []
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                outer._answer(self, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api"

    def start(self) -> "ScriptedCentrifugo":
        self.thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, condition, timeout: float, what: str) -> Any:
        """Waits until `condition()` is truthy (`timeout` scaled to the host's speed); returns its value."""
        timeout = scaled(timeout)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = condition()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}; requests: "
                                         f"{[(r.path, r.step, len(r.publications)) for r in self.requests]}")
                self._changed.wait(left)

    def _answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        path = handler.path
        legacy = path.rstrip("/") == "/api"
        if legacy:
            commands = [json.loads(line) for line in body.split(b"\n") if line.strip()]
            publications = [c["params"] for c in commands]
        elif path.endswith("/batch"):
            publications = [c["publish"] for c in json.loads(body)["commands"]]
        else:
            publications = [json.loads(body)]
        with self._changed:
            step = self.plan[min(len(self.requests), len(self.plan) - 1)]
            self.requests.append(APIRequest(path, {k.lower(): v for k, v in handler.headers.items()}, publications, step,
                                            handler.client_address[1]))
            if step == "ok":
                for publication in publications:
                    if publication["idempotency_key"] not in self._seen:
                        self._seen.add(publication["idempotency_key"])
                        self.accepted.append(publication)
            self._changed.notify_all()
        if step == "hang":
            self._release.wait(30)
            return
        if step in ("500", "401"):
            status, payload = int(step), b"" if step == "401" else b"internal error"
        else:
            ok = step == "ok"
            failure = {"code": 102, "message": "unknown channel"} if step == "unknown" else {"code": 100, "message": "internal server error"}
            one = {"publish": {}} if ok else {"error": failure}
            if legacy:
                lines = [json.dumps({"result": {}} if ok else {"error": one["error"]}) for _ in publications]
                payload = "\n".join(lines).encode()
            elif path.endswith("/batch"):
                payload = json.dumps({"replies": [one for _ in publications]}).encode()
            else:
                payload = json.dumps({"result": {}} if ok else {"error": one["error"]}).encode()
            status = 200
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

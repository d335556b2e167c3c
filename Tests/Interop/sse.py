"""Reading the bridge's SSE answers at the HTTP level, and checks on how a stream ended."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import httpx


@dataclass
class SSEResult:
    status: int
    headers: httpx.Headers
    payloads: list[str] = field(default_factory=list)  # every `data:` payload, in order
    comments: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    body: bytes = b""  # non-SSE answers (errors)

    @property
    def chunks(self) -> list[dict]:
        return [json.loads(p) for p in self.payloads if p != "[DONE]"]

    @property
    def content(self) -> str:
        out = []
        for chunk in self.chunks:
            for choice in chunk.get("choices") or []:
                text = (choice.get("delta") or {}).get("content")
                if text:
                    out.append(text)
        return "".join(out)

    @property
    def errors(self) -> list[dict]:
        return [c["error"] for c in self.chunks if "error" in c]

    @property
    def finish_reasons(self) -> list[str]:
        return [
            choice["finish_reason"]
            for chunk in self.chunks
            for choice in chunk.get("choices") or []
            if choice.get("finish_reason")
        ]

    @property
    def usage(self) -> dict | None:
        usages = [c["usage"] for c in self.chunks if c.get("usage")]
        return usages[-1] if usages else None

    def describe(self) -> str:
        shown = self.payloads if len(self.payloads) <= 12 else self.payloads[:5] + ["..."] + self.payloads[-6:]
        return f"status {self.status}, {len(self.payloads)} payloads: " + "\n  ".join([""] + shown)


def iter_sse(response: httpx.Response) -> Iterator[tuple[str, str]]:
    """Yields ("data", payload) per event and ("comment", text) per comment line."""
    data: list[str] = []
    for line in response.iter_lines():
        if line == "":
            if data:
                yield "data", "\n".join(data)
                data = []
        elif line.startswith(":"):
            yield "comment", line[1:].strip()
        elif line.startswith("data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "data", "\n".join(data)


def stream_chat(
    client: httpx.Client, body: dict, *, headers: dict | None = None, path: str = "/v1/chat/completions"
) -> SSEResult:
    """POSTs a streaming chat request and reads the whole answer."""
    started = time.monotonic()
    with client.stream("POST", path, json={**body, "stream": True}, headers=headers) as response:
        result = SSEResult(response.status_code, response.headers)
        if response.status_code != 200 or not response.headers.get("content-type", "").startswith(
            "text/event-stream"
        ):
            result.body = response.read()
        else:
            for kind, value in iter_sse(response):
                (result.payloads if kind == "data" else result.comments).append(value)
    result.elapsed = time.monotonic() - started
    return result


def assert_clean_finish(result: SSEResult) -> None:
    """Exactly one `[DONE]`, last; no error chunk; a `stop` finish."""
    assert result.status == 200, result.describe() + f"\nbody: {result.body[:500]!r}"
    assert result.headers.get("content-type", "").startswith("text/event-stream"), result.headers
    assert result.payloads and result.payloads[-1] == "[DONE]", result.describe()
    assert result.payloads.count("[DONE]") == 1, result.describe()
    assert not result.errors, result.describe()
    assert result.finish_reasons == ["stop"], result.describe()
    for chunk in result.chunks:
        assert chunk.get("object") == "chat.completion.chunk", chunk


def assert_error_terminal(result: SSEResult, code: str | tuple[str, ...]) -> dict:
    """The stream ends with exactly one error chunk, then `[DONE]` (nothing after it); returns the error."""
    codes = (code,) if isinstance(code, str) else code
    assert result.status == 200, result.describe() + f"\nbody: {result.body[:500]!r}"
    assert len(result.payloads) >= 2, result.describe()
    assert result.payloads[-1] == "[DONE]", "the stream must end with [DONE]: " + result.describe()
    assert result.payloads.count("[DONE]") == 1, result.describe()
    assert len(result.errors) == 1, "exactly one error chunk expected: " + result.describe()
    last = json.loads(result.payloads[-2])
    assert "error" in last, "the error chunk must come right before [DONE]: " + result.describe()
    error = last["error"]
    assert isinstance(error.get("message"), str) and error["message"], error
    assert isinstance(error.get("type"), str) and error["type"], error
    assert error.get("code") in codes, f"expected code in {codes}, got {error!r}"
    assert "stop" not in result.finish_reasons, "a failed stream must not claim finish_reason stop: " + result.describe()
    return error


def assert_error_json(response: httpx.Response, status: int) -> dict[str, Any]:
    """An OpenAI-shaped error answer with `status`; returns the `error` object."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text[:500]}"
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"message", "type", "param", "code"} <= set(error), error
    assert isinstance(error["message"], str) and error["message"], error
    assert isinstance(error["type"], str) and error["type"], error
    assert error["param"] is None or isinstance(error["param"], str), error
    assert error["code"] is None or isinstance(error["code"], str), error
    return error

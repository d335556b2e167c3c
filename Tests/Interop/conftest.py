"""Fixtures for the interop suite: the built `tokenbridge` binary run as subprocesses on free ports,
real clients (httpx, the openai SDK) and a scripted model server.

The binary is `$TOKENBRIDGE_BIN` (default `.build/debug/tokenbridge`, relative to the repository).
Every process a test starts is killed at teardown; its output is attached to the report of a
failing test.
"""

from __future__ import annotations

import copy
import itertools
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import httpx
import openai
import pytest
import yaml

from scripted_upstream import ScriptedUpstream
from timing import describe as describe_time_scale, scaled

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("TOKENBRIDGE_BIN", ".build/debug/tokenbridge"))
if not BIN.is_absolute():
    BIN = REPO / BIN

# Seconds on a normal host; every bound goes through `scaled` (timing.py) when it is used.
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0

# Local traffic only: proxies from the environment must not sit between the clients and the bridge.
for _name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_name, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

# Variables the bridge reads; the tests set them explicitly or not at all.
_BRIDGE_ENV = re.compile(
    r"^(TOKENBRIDGE_.*|OPENAI_.*|RABBITMQ_.*|CENTRIFUGO_.*|LOG_LEVEL|RESPONSE_QUEUE_PREFIX)$"
)


def bridge_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without the bridge's variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not _BRIDGE_ENV.match(k)}
    env.update(extra or {})
    return env


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_line(describe_time_scale())


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """Stretches the test's timeout (pytest.ini's, or its own marker's) by the host's time scale,
    measured as the test starts; pytest-timeout's hook, inside this one, reads the new marker."""
    marker = item.get_closest_marker("timeout")
    base = marker.args[0] if marker is not None and marker.args else item.config.getini("timeout")
    if base:
        item.add_marker(pytest.mark.timeout(scaled(float(base))), append=False)
    yield


def pytest_sessionstart(session: pytest.Session) -> None:
    if session.config.option.collectonly:
        return
    if not (BIN.is_file() and os.access(BIN, os.X_OK)):
        pytest.exit(
            f"tokenbridge binary not found at {BIN}: run `swift build` first or set TOKENBRIDGE_BIN",
            returncode=2,
        )


# MARK: - Processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.02) -> Any:
    """Polls `condition` until it returns something truthy; fails after `timeout` seconds (scaled)."""
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)


class ProcessExited(Exception):
    pass


class Proc:
    """A subprocess whose stdout and stderr go to a log file."""

    _counter = itertools.count()

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_dir / f"{name}-{next(self._counter)}.log"
        self._log = open(self.log_path, "wb")
        self.popen = subprocess.Popen(
            argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=REPO, start_new_session=True,
        )
        self.expect_exit = False  # set when the test itself stops the process

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_bytes().decode("utf-8", "replace")

    def tail(self, limit: int = 20000) -> str:
        text = self.output()
        return text if len(text) <= limit else "...\n" + text[-limit:]

    def signal(self, sig: int) -> None:
        self.expect_exit = True
        if self.alive():
            self.popen.send_signal(sig)

    def wait(self, timeout: float) -> int:
        return self.popen.wait(scaled(timeout))

    def stop(self) -> None:
        self.expect_exit = True
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(scaled(STOP_TIMEOUT))
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(scaled(STOP_TIMEOUT))
        self._log.close()

    def wait_http(self, url: str, accept: Callable[[httpx.Response], bool], timeout: float = STARTUP_TIMEOUT) -> None:
        timeout = scaled(timeout)
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=scaled(1.0), trust_env=False) as client:
            while True:
                if not self.alive():
                    raise ProcessExited(
                        f"{self.name} exited with code {self.popen.returncode} before answering {url}:\n{self.tail()}"
                    )
                try:
                    if accept(client.get(url)):
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() >= deadline:
                    raise AssertionError(f"{self.name} did not answer {url} within {timeout:.1f}s:\n{self.tail()}")
                time.sleep(0.05)


class Registry:
    """The processes of one test (or one module), stopped together."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[Proc] = []

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Proc:
        proc = Proc(name, [str(a) for a in argv], bridge_env(env), self.log_dir)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()


def _attach(node: pytest.Item, *procs: Proc) -> None:
    node.__dict__.setdefault("_tb_procs", []).extend(procs)


def _attach_upstream(node: pytest.Item, upstream: ScriptedUpstream) -> None:
    node.__dict__.setdefault("_tb_upstreams", []).append(upstream)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for proc in item.__dict__.get("_tb_procs", []):
        state = "running" if proc.alive() else f"exited {proc.popen.returncode}"
        report.sections.append((f"{proc.name} output ({state}, {proc.log_path})", proc.tail()))
    for upstream in item.__dict__.get("_tb_upstreams", []):
        report.sections.append(("scripted upstream requests", upstream.describe()))


# MARK: - The bridge


def deep_merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def base_config(port: int) -> dict:
    return {
        "server": {"host": "127.0.0.1", "port": port, "web_root": str(REPO / "web")},
        "llm": {"provider": "simulated", "simulated": {"tokens": 24, "rate": 0, "seed": 0}},
        "pipeline": {"shutdown_grace": "2s"},
        "log": {"level": "info"},
    }


class Bridge:
    def __init__(self, proc: Proc, port: int, config: dict, config_path: Path) -> None:
        self.proc = proc
        self.port = port
        self.config = config
        self.config_path = config_path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client on the bridge; a timeout given in seconds is scaled to the host's speed."""
        timeout = kwargs.get("timeout", 15.0)
        if isinstance(timeout, (int, float)):
            kwargs["timeout"] = httpx.Timeout(scaled(timeout))
        return httpx.Client(base_url=self.base_url, trust_env=False, **kwargs)

    def openai(self, api_key: str = "anything", **kwargs: Any) -> openai.OpenAI:
        kwargs.setdefault("timeout", scaled(30.0))
        return openai.OpenAI(base_url=f"{self.base_url}/v1", api_key=api_key, max_retries=0, **kwargs)

    def ping(self) -> None:
        """The bridge still serves: `GET /ping` answers `pong`."""
        assert self.proc.alive(), f"the bridge exited with code {self.proc.popen.returncode}"
        with self.client(timeout=5.0) as client:
            response = client.get("/ping")
        assert response.status_code == 200 and response.text.strip() == "pong", (response.status_code, response.text)

    def health(self) -> dict:
        with self.client(timeout=10.0) as client:
            return client.get("/health").json()


def launch_bridge(
    registry: Registry,
    tmp_path: Path,
    config: dict | None = None,
    *,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    port: int | None = None,
    raw_config: dict | None = None,
    wait: bool = True,
) -> Bridge:
    """Starts `tokenbridge serve` with `base_config` merged with `config` (or exactly `raw_config`)."""
    last_error: Exception | None = None
    for attempt in range(3):
        chosen = port or free_port()
        merged = raw_config if raw_config is not None else deep_merge(base_config(chosen), config or {})
        path = tmp_path / f"bridge-{chosen}-{attempt}.yaml"
        path.write_text(yaml.safe_dump(merged, sort_keys=False))
        proc = registry.spawn("bridge", [BIN, "serve", "--config", path, *args], env)
        bridge = Bridge(proc, chosen, merged, path)
        if not wait:
            return bridge
        try:
            proc.wait_http(f"{bridge.base_url}/ping", lambda r: r.status_code == 200)
            return bridge
        except ProcessExited as error:
            last_error = error
            if port is not None or not re.search(r"bind|address|in use", proc.output(), re.I):
                raise
    raise AssertionError(f"bridge failed to start three times: {last_error}")


@pytest.fixture
def procs(request: pytest.FixtureRequest, tmp_path: Path):
    registry = Registry(tmp_path)
    request.node.__dict__["_tb_registry"] = registry
    yield registry
    unexpected = [p for p in registry.procs if not p.expect_exit and not p.alive()]
    registry.stop_all()
    if unexpected:
        pytest.fail(
            "process exited during the test: "
            + ", ".join(f"{p.name} (code {p.popen.returncode}):\n{p.tail(5000)}" for p in unexpected)
        )


@pytest.fixture
def start_bridge(request: pytest.FixtureRequest, procs: Registry, tmp_path: Path) -> Callable[..., Bridge]:
    """`start_bridge(config_overrides, env=..., args=...)` -> a running `Bridge` (answers /ping)."""

    def start(config: dict | None = None, **kwargs: Any) -> Bridge:
        bridge = launch_bridge(procs, tmp_path, config, **kwargs)
        _attach(request.node, bridge.proc)
        return bridge

    return start


class _Shared:
    """One default bridge per module for tests that only send requests; restarted if it died."""

    def __init__(self, tmp_path: Path) -> None:
        self.registry = Registry(tmp_path)
        self.tmp_path = tmp_path
        self.bridge: Bridge | None = None

    def get(self) -> Bridge:
        if self.bridge is None or not self.bridge.proc.alive():
            self.bridge = launch_bridge(self.registry, self.tmp_path)
        return self.bridge


@pytest.fixture(scope="module")
def _shared_bridge(tmp_path_factory: pytest.TempPathFactory):
    shared = _Shared(tmp_path_factory.mktemp("shared-bridge"))
    yield shared
    shared.registry.stop_all()


@pytest.fixture
def bridge(request: pytest.FixtureRequest, _shared_bridge: _Shared) -> Bridge:
    """The module's default bridge (simulated model, default limits); fails the test if it dies."""
    current = _shared_bridge.get()
    _attach(request.node, current.proc)
    yield current
    if not current.proc.alive():
        pytest.fail(f"the bridge exited with code {current.proc.popen.returncode} during the test")


# MARK: - Model servers


class MockLLM:
    def __init__(self, proc: Proc, port: int) -> None:
        self.proc = proc
        self.port = port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


@pytest.fixture
def start_mock_llm(request: pytest.FixtureRequest, procs: Registry) -> Callable[..., MockLLM]:
    """`start_mock_llm(rate=0, tokens=40)` -> a running `tokenbridge mock-llm`."""

    def start(rate: float = 0, tokens: int = 40, args: tuple[str, ...] = ()) -> MockLLM:
        port = free_port()
        proc = procs.spawn(
            "mock-llm", [BIN, "mock-llm", "--port", port, "--rate", rate, "--tokens", tokens, *args]
        )
        _attach(request.node, proc)
        proc.wait_http(f"http://127.0.0.1:{port}/v1/models", lambda r: r.status_code == 200)
        return MockLLM(proc, port)

    return start


@pytest.fixture
def upstream(request: pytest.FixtureRequest):
    """A fresh scripted model server (see scripted_upstream.py)."""
    server = ScriptedUpstream().start()
    _attach_upstream(request.node, server)
    yield server
    server.stop()


def scripted_config(upstream: ScriptedUpstream, **llm: Any) -> dict:
    """Bridge settings for the scripted upstream: fast retries, short timeouts unless overridden."""
    settings = {
        "provider": "openai",
        "url": upstream.url,
        "model": "script-default",
        "retries": 2,
        "retry_backoff": "50ms",
        "retry_backoff_max": "200ms",
        "timeouts": {"connect": "2s", "first_token": "10s", "idle": "10s", "total": "60s"},
    }
    return {"llm": deep_merge(settings, llm)}


# MARK: - Small helpers


@pytest.fixture
def uid(request: pytest.FixtureRequest) -> str:
    """A stream id unique to this test run."""
    name = re.sub(r"[^A-Za-z0-9_.:-]", "-", request.node.name)[:60]
    return f"it-{name}-{uuid.uuid4().hex[:12]}"


def unique_uid(prefix: str = "it") -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def raw_http(port: int, data: bytes, timeout: float = 10.0) -> bytes:
    """Sends raw bytes, returns everything the server sends until it closes or `timeout` passes idle."""
    with socket.create_connection(("127.0.0.1", port), timeout=scaled(timeout)) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks) and _complete_response(b"".join(chunks)):
                    break
        except (socket.timeout, ConnectionResetError):
            pass
        return b"".join(chunks)


def _complete_response(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return bool(m) and len(body) >= int(m.group(1))


def chat_body(content: str = "Say something.", **extra: Any) -> dict:
    return {"model": "sim", "messages": [{"role": "user", "content": content}], **extra}


# MARK: - RabbitMQ

from broker import Broker, make_tls_files, pick_node_port, port_is_free  # noqa: E402


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory):
    """The suite's RabbitMQ node (Debian's rabbitmq-server, private directory), with a TLS listener.

    It takes the standard port 5672 when that is free, so examples written for a local broker run
    unchanged; otherwise a free one."""
    base = tmp_path_factory.mktemp("rabbitmq")
    tls = make_tls_files(base / "tls")
    port = 5672 if port_is_free(5672) and port_is_free(25672) else pick_node_port()
    node = Broker(base / "node", port, tls_port=free_port(), cert_dir=tls.directory)
    node.start()
    node.tls = tls  # type: ignore[attr-defined]
    yield node
    node.stop()


@pytest.fixture
def private_broker(tmp_path: Path):
    """A node of the test's own, for tests that stop and restart the broker."""
    node = Broker(tmp_path / "private-rabbitmq", pick_node_port())
    node.start()
    yield node
    node.stop()


def amqp_config(broker: Broker, **rabbitmq: Any) -> dict:
    """Bridge settings with the queue ingress on `broker`; `sinks_rabbitmq` sets sinks.rabbitmq keys."""
    sinks = rabbitmq.pop("sinks_rabbitmq", {})
    settings = {"enabled": True, "url": broker.url, "reconnect_backoff": "100ms", "reconnect_backoff_max": "500ms"}
    return {"ingress": {"rabbitmq": deep_merge(settings, rabbitmq)}, "sinks": {"rabbitmq": sinks}}


def wait_broker_up(bridge: Bridge, timeout: float = 20.0) -> dict:
    """Waits until the bridge's /health says the broker connection is up; returns that entry."""
    return wait_until(
        lambda: (lambda checks: checks if checks.get("status") == "up" else None)(bridge.health()["checks"].get("rabbitmq", {})),
        timeout, "the bridge to connect to the broker")

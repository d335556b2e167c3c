"""The command line and configuration: `--port`, env overrides, `check-config`, static files."""

from __future__ import annotations

import socket
import subprocess

import pytest
import yaml

from conftest import BIN, REPO, Bridge, bridge_env, chat_body, free_port, raw_http
from timing import scaled


def run_cli(*args: str, env: dict | None = None, timeout: float = 20.0) -> subprocess.CompletedProcess:
    """Runs a short-lived `tokenbridge` command; a hang fails with TimeoutExpired."""
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, timeout=scaled(timeout), cwd=REPO, env=bridge_env(env)
    )


# MARK: - serve


def test_port_flag_overrides_config(start_bridge) -> None:
    port = free_port()
    bridge = start_bridge({"server": {"port": free_port()}}, args=("--port", str(port)), port=port)
    bridge.ping()


def test_env_overrides_config_port(start_bridge) -> None:
    port = free_port()
    bridge = start_bridge({"server": {"port": free_port()}}, env={"TOKENBRIDGE_SERVER_PORT": str(port)}, port=port)
    bridge.ping()


def test_serve_refuses_a_bad_config(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"server": {"port": free_port()}, "llm": {"timeouts": {"idle": "soon"}}}))
    result = run_cli("serve", "--config", str(path), timeout=20)
    assert result.returncode != 0, result
    assert "idle" in (result.stdout + result.stderr), result


def test_serve_reports_a_port_in_use(tmp_path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        path = tmp_path / "busy.yaml"
        path.write_text(yaml.safe_dump({"server": {"host": "127.0.0.1", "port": port},
                                        "llm": {"provider": "simulated"}}))
        result = run_cli("serve", "--config", str(path), timeout=20)
    assert result.returncode != 0, result
    assert str(port) in (result.stdout + result.stderr), result


# MARK: - check-config


def test_check_config_accepts_the_demo_config() -> None:
    demo = REPO / "config" / "demo.yaml"
    if not demo.exists():
        pytest.fail("config/demo.yaml is missing")
    result = run_cli("check-config", "--config", str(demo))
    assert result.returncode == 0, result
    assert "simulated" in result.stdout, result.stdout


def test_check_config_redacts_secrets(tmp_path) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text(yaml.safe_dump({
        "server": {"api_keys": ["client-key-abcdef123"]},
        "llm": {"provider": "openai", "url": "http://127.0.0.1:9/v1", "api_key": "sk-very-secret-987"},
    }))
    result = run_cli("check-config", "--config", str(path), env={"OPENAI_API_KEY": "sk-env-secret-555"})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for secret in ("sk-very-secret-987", "client-key-abcdef123", "sk-env-secret-555"):
        assert secret not in output, f"check-config printed the secret {secret}"
    assert "127.0.0.1:9" in output, "the effective config shows the url"


def test_check_config_lists_every_problem(tmp_path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump({
        "server": {"port": 70000, "bogus_key": 1},
        "llm": {"url": "not a url", "timeouts": {"first_token": "ten parsecs"}},
        "pipeline": {"max_concurrent_streams": 0},
    }))
    result = run_cli("check-config", "--config", str(path))
    assert result.returncode != 0, result.stdout + result.stderr
    # The effective config (stdout) names every key anyway; the problems are the report on stderr.
    problems = result.stderr
    for mention in ("port", "bogus_key", "url", "first_token", "max_concurrent_streams"):
        assert mention in problems, f"check-config did not report the problem with {mention}:\n{problems}"


def test_check_config_applies_env_overrides(tmp_path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump({"llm": {"provider": "simulated"}}))
    result = run_cli("check-config", "--config", str(path), env={"TOKENBRIDGE_SERVER_PORT": "9123",
                                                                  "OPENAI_MODEL": "env-model-x"})
    assert result.returncode == 0, result
    assert "9123" in result.stdout and "env-model-x" in result.stdout, result.stdout


# MARK: - static files


@pytest.fixture
def web_bridge(start_bridge, tmp_path) -> Bridge:
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html><h1>interop index</h1>")
    (web / "app.js").write_text("console.log('interop');")
    (tmp_path / "secret.txt").write_text("TOP-SECRET-OUTSIDE-WEB-ROOT")
    return start_bridge({"server": {"web_root": str(web)}})


def test_static_files(web_bridge: Bridge) -> None:
    with web_bridge.client() as client:
        index = client.get("/")
        assert index.status_code == 200 and "interop index" in index.text
        assert index.headers.get("content-type", "").startswith("text/html")
        script = client.get("/app.js")
        assert script.status_code == 200 and "interop" in script.text
        assert "javascript" in script.headers.get("content-type", "")
        assert client.get("/missing.css").status_code == 404
    web_bridge.ping()


@pytest.mark.parametrize("path", ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "//../secret.txt"])
def test_static_files_stay_inside_web_root(web_bridge: Bridge, path: str) -> None:
    data = raw_http(web_bridge.port, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(), 5.0)
    assert b"TOP-SECRET" not in data, data[:300]
    web_bridge.ping()


def test_default_web_root_serves_a_page(bridge: Bridge) -> None:
    with bridge.client() as client:
        response = client.get("/")
    assert response.status_code == 200, response.status_code
    assert response.headers.get("content-type", "").startswith("text/html")


def test_keep_alive_connection_serves_many_requests(bridge: Bridge) -> None:
    with bridge.client() as client:
        for _ in range(20):  # one connection, many requests
            assert client.get("/ping").text.strip() == "pong"
            assert client.post("/v1/chat/completions", json=chat_body()).status_code == 200

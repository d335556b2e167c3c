"""The deployment files: docker-compose.yml, Dockerfile, .dockerignore and config/centrifugo.json.

No Docker engine is needed: the compose file is checked against the Compose Specification's JSON
schema (vendored by check-jsonschema), its tokenbridge service's environment against what
`tokenbridge check-config` understands, its commands by running them with the built binary, and
its wiring (hosts, ports, keys, health checks) for consistency between services. The Centrifugo
file is checked for the v6 layout and for the settings that let a late subscriber recover a whole
stream. What only a real `docker compose up` shows (images pull and build, containers talk) is
out of reach here.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from conftest import BIN, REPO, Registry, bridge_env, free_port

COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
CENTRIFUGO_JSON = REPO / "config" / "centrifugo.json"

SERVICES = ("rabbitmq", "centrifugo", "mock-llm", "tokenbridge")


# MARK: - Helpers

_INTERPOLATION = re.compile(r"\$(?:(\$)|\{(\w+)(?:(:?[-?])([^}]*))?\}|(\w+))")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's variable interpolation ($$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
    ${VAR:?error}) against `env` only, so results do not depend on this machine's environment."""

    def replace(match: re.Match) -> str:
        escaped, name, op, arg, bare = match.groups()
        if escaped:
            return "$"
        name = name or bare
        present = name in env
        current = env.get(name, "")
        if op == ":-":
            return current if current else arg
        if op == "-":
            return current if present else arg
        if op in (":?", "?"):
            if (op == ":?" and not current) or not present:
                raise AssertionError(f"compose needs ${name}: {arg}")
            return current
        return current

    return _INTERPOLATION.sub(replace, value)


def resolve(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [resolve(item, env) for item in node]
    if isinstance(node, dict):
        return {key: resolve(item, env) for key, item in node.items()}
    return node


def load_compose(env: dict[str, str] | None = None) -> dict:
    raw = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(raw, dict), "docker-compose.yml is not a mapping"
    return resolve(raw, env or {})


def service(compose: dict, name: str) -> dict:
    services = compose.get("services") or {}
    assert name in services, f"docker-compose.yml has no service {name!r} (it has {sorted(services)})"
    return services[name]


def environment(svc: dict) -> dict[str, str]:
    """A service's `environment`, mapping or list form, values as strings."""
    env = svc.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        env = dict(pairs)
    return {key: "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
            for key, value in env.items()}


def command(svc: dict) -> list[str]:
    cmd = svc.get("command")
    if cmd is None:
        return []
    return shlex.split(cmd) if isinstance(cmd, str) else [str(part) for part in cmd]


def option(argv: list[str], name: str) -> str | None:
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def with_option(argv: list[str], name: str, value: str) -> list[str]:
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == name:
            skip = True
            continue
        if arg.startswith(name + "="):
            continue
        out.append(arg)
    return out + [name, value]


def published_targets(svc: dict) -> dict[int, str]:
    """Container port -> published host port, short ("8080:8080", "127.0.0.1:80:8080/tcp") or long form."""
    targets: dict[int, str] = {}
    for port in svc.get("ports") or []:
        if isinstance(port, dict):
            targets[int(port["target"])] = str(port.get("published", ""))
            continue
        spec = str(port).split("/", 1)[0]
        parts = spec.rsplit(":", 2)
        targets[int(parts[-1])] = parts[-2] if len(parts) > 1 else ""
    return targets


def check_config(env: dict[str, str]) -> subprocess.CompletedProcess:
    """`tokenbridge check-config --sources` as the container runs it: no --config, so the
    repository's config/tokenbridge.yaml (the image copies config/ into its working directory)."""
    return subprocess.run(
        [str(BIN), "check-config", "--sources"], capture_output=True, text=True, timeout=30,
        cwd=REPO, env=bridge_env(env),
    )


def effective(output: str, path: str) -> str | None:
    """The value `check-config` prints for the dotted key `path` (its output is YAML-like, two
    spaces per level, `# from ...` comments with --sources)."""
    want = path.split(".")
    stack: list[str] = []
    for line in output.splitlines():
        match = re.match(r"^( *)(\w+):\s*(.*?)\s*(#.*)?$", line)
        if not match:
            continue
        stack = stack[: len(match.group(1)) // 2] + [match.group(2)]
        if stack == want:
            return match.group(3).strip().strip('"')
    return None


def duration_seconds(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
    assert parts and "".join(n + u for n, u in parts) == text, f"not a duration: {text!r}"
    return sum(float(n) * units[u] for n, u in parts)


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose()


@pytest.fixture(scope="module")
def bridge_service_env(compose: dict) -> dict[str, str]:
    return environment(service(compose, "tokenbridge"))


@pytest.fixture(scope="module")
def centrifugo_config() -> dict:
    config = json.loads(CENTRIFUGO_JSON.read_text())
    assert isinstance(config, dict), "config/centrifugo.json is not an object"
    return config


# MARK: - docker-compose.yml: shape


def test_compose_is_yaml_with_the_four_services(compose: dict) -> None:
    services = compose.get("services")
    assert isinstance(services, dict), "docker-compose.yml has no services mapping"
    missing = [name for name in SERVICES if name not in services]
    assert not missing, f"missing services: {missing}"
    for name, svc in services.items():
        assert isinstance(svc, dict), f"service {name} is not a mapping"
        assert svc.get("image") or svc.get("build"), f"service {name} has neither image nor build"


def test_compose_matches_the_compose_specification() -> None:
    """The Compose Specification's own JSON schema, as vendored by check-jsonschema (offline)."""
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True, text=True, timeout=60,
    )
    if "No module named check_jsonschema" in result.stderr:
        pytest.fail("check-jsonschema is missing: pip install -r Tests/Interop/requirements.txt")
    assert result.returncode == 0, result.stdout + result.stderr


def test_bridge_images_come_from_the_dockerfile(compose: dict) -> None:
    for name in ("tokenbridge", "mock-llm"):
        build = service(compose, name).get("build")
        assert build, f"{name} is not built from the Dockerfile"
        context = build if isinstance(build, str) else build.get("context", ".")
        dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        assert (REPO / context / dockerfile).resolve() == DOCKERFILE.resolve(), (name, build)
    assert command(service(compose, "tokenbridge"))[:1] in ([], ["serve"]), "tokenbridge must run `serve`"
    assert command(service(compose, "mock-llm"))[:1] == ["mock-llm"], "mock-llm must run `tokenbridge mock-llm`"


def test_every_health_condition_has_a_healthcheck(compose: dict) -> None:
    depends = service(compose, "tokenbridge").get("depends_on")
    assert isinstance(depends, dict), "tokenbridge needs depends_on with conditions"
    for name in ("rabbitmq", "centrifugo", "mock-llm"):
        assert name in depends, f"tokenbridge does not wait for {name}"
    for name, spec in depends.items():
        condition = (spec or {}).get("condition", "service_started")
        if condition == "service_healthy":
            check = service(compose, name).get("healthcheck") or {}
            assert check.get("test") and not check.get("disable"), f"{name} is waited for as healthy but has no healthcheck"
    rabbit_test = " ".join(service(compose, "rabbitmq")["healthcheck"]["test"])
    assert "rabbitmq-diagnostics" in rabbit_test, rabbit_test
    assert "management" in service(compose, "rabbitmq")["image"], "RabbitMQ without the management UI"
    assert 15672 in published_targets(service(compose, "rabbitmq")), "the management UI port is not published"


# MARK: - docker-compose.yml: the bridge's environment


def test_bridge_env_names_are_ones_the_bridge_understands(bridge_service_env: dict[str, str]) -> None:
    """Every variable takes effect (`check-config --sources` says `from env NAME`) and none is
    reported as unknown. Empty values count as unset to the bridge, so they get a placeholder."""
    assert bridge_service_env, "the tokenbridge service sets no environment"
    env = {key: value or "placeholder" for key, value in bridge_service_env.items()}
    result = check_config(env)
    output = result.stdout + result.stderr
    problems = [line for line in output.splitlines() if line.lstrip().startswith("- env ")]
    assert not problems, "\n".join(problems)
    unused = [name for name in env if f"from env {name}" not in output]
    assert not unused, f"variables check-config does not apply: {unused}\n{output}"


def test_bridge_env_as_composed_is_a_valid_configuration(bridge_service_env: dict[str, str]) -> None:
    result = check_config(bridge_service_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert effective(result.stdout, "ingress.rabbitmq.enabled") == "true", "the RabbitMQ ingress is not switched on"
    assert effective(result.stdout, "server.host") == "0.0.0.0", "the bridge must listen on every interface in a container"
    assert "centrifugo" in (effective(result.stdout, "sinks.default") or ""), "streams are not published to Centrifugo"
    assert effective(result.stdout, "sinks.centrifugo.api_key") not in (None, '""', ""), "no key for Centrifugo's API"


def test_the_bridge_port_is_published_and_exposed(compose: dict, bridge_service_env: dict[str, str]) -> None:
    result = check_config(bridge_service_env)
    port = effective(result.stdout, "server.port")
    assert port and port.isdigit(), result.stdout
    targets = published_targets(service(compose, "tokenbridge"))
    assert int(port) in targets, f"server.port {port} is not published (ports: {targets})"
    assert targets[int(port)], "the bridge's port has no host side"
    exposed = re.findall(r"^EXPOSE\s+(\d+)", DOCKERFILE.read_text(), re.M)
    assert port in exposed, f"the Dockerfile exposes {exposed}, the bridge listens on {port}"
    check = " ".join(service(compose, "tokenbridge").get("healthcheck", {}).get("test", []))
    assert f"/{port}" in check or f":{port}" in check, f"the healthcheck does not probe port {port}: {check}"


def test_bridge_urls_point_at_the_compose_services(compose: dict, bridge_service_env: dict[str, str],
                                                   centrifugo_config: dict) -> None:
    env = bridge_service_env
    upstream = urlsplit(env["OPENAI_URL"])
    mock_cmd = command(service(compose, "mock-llm"))
    assert upstream.hostname == "mock-llm", env["OPENAI_URL"]
    assert str(upstream.port) == option(mock_cmd, "--port"), (env["OPENAI_URL"], mock_cmd)
    assert upstream.path.rstrip("/") == "/v1", "the bridge POSTs {url}/chat/completions: the URL ends in /v1"

    broker = urlsplit(env["RABBITMQ_URL"])
    assert broker.scheme == "amqp" and broker.hostname == "rabbitmq" and (broker.port or 5672) == 5672, broker
    rabbit_env = environment(service(compose, "rabbitmq"))
    assert broker.username == rabbit_env.get("RABBITMQ_DEFAULT_USER", "guest"), "the bridge's user is not the broker's"
    assert broker.password == rabbit_env.get("RABBITMQ_DEFAULT_PASS", "guest"), "the bridge's password is not the broker's"

    api = urlsplit(env["CENTRIFUGO_API_URL"])
    centrifugo_port = centrifugo_config.get("http_server", {}).get("port", 8000)
    prefix = centrifugo_config.get("http_api", {}).get("handler_prefix", "/api")
    assert api.hostname == "centrifugo" and api.port == centrifugo_port, env["CENTRIFUGO_API_URL"]
    assert api.path.rstrip("/") == prefix, (api.path, prefix)
    assert "centrifugo" in env.get("TOKENBRIDGE_SINKS_DEFAULT", "").split(","), "streams are not published to Centrifugo"


@pytest.mark.parametrize("overrides", [{}, {"CENTRIFUGO_API_KEY": "k-123", "CENTRIFUGO_HMAC_SECRET": "s" * 40}])
def test_the_centrifugo_key_is_shared(overrides: dict[str, str]) -> None:
    """One variable feeds Centrifugo's http_api.key and the bridge's sinks.centrifugo.api_key."""
    composed = load_compose(overrides)
    bridge_key = environment(service(composed, "tokenbridge")).get("CENTRIFUGO_API_KEY")
    centrifugo_env = environment(service(composed, "centrifugo"))
    assert bridge_key, "the bridge gets no Centrifugo API key"
    assert centrifugo_env.get("CENTRIFUGO_HTTP_API_KEY") == bridge_key, (bridge_key, centrifugo_env)
    if overrides:
        assert bridge_key == overrides["CENTRIFUGO_API_KEY"], "CENTRIFUGO_API_KEY from the environment is ignored"
        assert centrifugo_env.get("CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY") == overrides["CENTRIFUGO_HMAC_SECRET"]


def test_centrifugo_runs_v6_on_the_mounted_config(compose: dict) -> None:
    svc = service(compose, "centrifugo")
    assert re.fullmatch(r"centrifugo/centrifugo:v6(\.[\d.]+)?", svc.get("image", "")), svc.get("image")
    argv = command(svc)
    path = option(argv, "-c") or option(argv, "--config")
    assert path, f"centrifugo is not given its config file: {argv}"
    mounts = {}
    for volume in svc.get("volumes") or []:
        if isinstance(volume, dict):
            mounts[volume["target"]] = volume["source"]
        else:
            source, target = str(volume).split(":")[:2]
            mounts[target] = source
    assert path in mounts, f"{path} is not mounted (volumes: {mounts})"
    assert (REPO / mounts[path]).resolve() == CENTRIFUGO_JSON.resolve(), mounts[path]
    assert centrifugo_port_published(svc), "Centrifugo's port is not published"


def centrifugo_port_published(svc: dict) -> bool:
    config = json.loads(CENTRIFUGO_JSON.read_text())
    return config.get("http_server", {}).get("port", 8000) in published_targets(svc)


# MARK: - docker-compose.yml: the commands run


def test_the_mock_llm_command_serves_the_model_the_bridge_asks_for(
        procs: Registry, compose: dict, bridge_service_env: dict[str, str]) -> None:
    argv = command(service(compose, "mock-llm"))
    assert option(argv, "--host") == "0.0.0.0", "mock-llm binds 127.0.0.1 by default: other containers cannot reach it"
    port = free_port()
    local = with_option(with_option(argv, "--host", "127.0.0.1"), "--port", str(port))
    mock = procs.spawn("mock-llm", [BIN, *local])
    url = f"http://127.0.0.1:{port}/v1/models"
    mock.wait_http(url, lambda r: r.status_code == 200)
    models = [item["id"] for item in httpx.get(url, trust_env=False, timeout=5).json()["data"]]
    assert bridge_service_env["OPENAI_MODEL"] in models, (bridge_service_env["OPENAI_MODEL"], models)


def test_the_bridge_starts_with_the_composed_environment(procs: Registry, bridge_service_env: dict[str, str]) -> None:
    """`serve` as the container runs it (repository config, web/), with the compose variables; only
    the listening address changes. The other services' host names do not resolve here: the bridge
    must still come up (it retries the broker, reports the model as down on /health)."""
    port = free_port()
    env = dict(bridge_service_env, TOKENBRIDGE_SERVER_HOST="127.0.0.1", TOKENBRIDGE_SERVER_PORT=str(port))
    bridge = procs.spawn("bridge", [BIN, "serve"], env)
    bridge.wait_http(f"http://127.0.0.1:{port}/ping", lambda r: r.status_code == 200)
    page = httpx.get(f"http://127.0.0.1:{port}/", trust_env=False, timeout=5)
    assert page.status_code == 200 and "<html" in page.text.lower(), (page.status_code, page.text[:200])


# MARK: - Dockerfile


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def dockerfile_stages() -> list[dict]:
    """Stages in order: {'image', 'name', 'instructions'}; ARG defaults before the first FROM applied."""
    args: dict[str, str] = {}
    stages: list[dict] = []
    for word, rest in dockerfile_instructions():
        if word == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip()
        elif word == "FROM":
            parts = rest.split()
            image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), parts[0])
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            stages.append({"image": image, "name": name, "instructions": []})
        elif stages:
            stages[-1]["instructions"].append((word, rest))
    return stages


def runs(stage: dict) -> str:
    return "\n".join(rest for word, rest in stage["instructions"] if word == "RUN")


def copies(stage: dict) -> list[list[str]]:
    out = []
    for word, rest in stage["instructions"]:
        if word == "COPY":
            out.append([part for part in rest.split() if not part.startswith("--")])
    return out


def test_dockerfile_builds_with_swift_and_runs_on_slim_debian() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2, f"expected a build and a runtime stage, found {len(stages)}"
    build, runtime = stages[0], stages[-1]
    assert re.fullmatch(r"swift:6(\.\d+)*-bookworm", build["image"]), build["image"]
    assert runtime["image"] == "debian:bookworm-slim", runtime["image"]
    builds = [cmd for cmd in re.split(r"&&|;|\n", runs(build))
              if re.search(r"\bswift build\b.*-c release", cmd) and "--show-bin-path" not in cmd]
    assert builds, "no `swift build -c release` in the build stage"
    for package in ("libwebsockets-dev", "librabbitmq-dev", "libcurl4-openssl-dev", "libjemalloc-dev", "pkg-config"):
        assert re.search(rf"\b{re.escape(package)}\b", runs(build)), f"the build stage does not install {package}"
    for package in ("libwebsockets17", "librabbitmq4", "libcurl4", "libjemalloc2", "ca-certificates"):
        assert re.search(rf"\b{re.escape(package)}\b", runs(runtime)), f"the runtime stage does not install {package}"
    swift_runtime = all("--static-swift-stdlib" in cmd for cmd in builds) or any(
        "/usr/lib/swift/linux" in " ".join(parts) for parts in copies(runtime))
    assert swift_runtime, "the runtime stage has no Swift runtime: build with --static-swift-stdlib or copy its .so files"


def test_dockerfile_copies_what_the_build_and_the_bridge_need() -> None:
    stages = dockerfile_stages()
    build, runtime = stages[0], stages[-1]
    build_sources = {parts[0] for parts in copies(build)}
    assert "Sources" in build_sources, "the build stage does not copy Sources"
    if ".testTarget(" in (REPO / "Package.swift").read_text():
        # SwiftPM refuses a package whose declared test target directories are missing.
        assert "Tests" in build_sources, "Package.swift declares test targets but Tests/ is not copied"
    runtime_copies = [parts for parts in copies(runtime)]
    sources = {parts[0].rstrip("/") for parts in runtime_copies}
    assert "web" in sources, "the runtime stage does not copy web/"
    assert "config" in sources, "the runtime stage does not copy config/"
    assert any(parts[0].endswith("/tokenbridge") for parts in runtime_copies), "the executable is not copied"
    user = [rest for word, rest in runtime["instructions"] if word == "USER"]
    assert user and user[-1].split(":")[0] not in ("root", "0"), f"the image runs as root: {user}"
    entry = [rest for word, rest in runtime["instructions"] if word == "ENTRYPOINT"]
    cmd = [rest for word, rest in runtime["instructions"] if word == "CMD"]
    assert entry and "tokenbridge" in entry[-1], entry
    assert "serve" in (entry[-1] + " " + (cmd[-1] if cmd else "")), "the image does not default to `serve`"


def test_the_runtime_stage_installs_the_binarys_libraries() -> None:
    """Each shared library the built executable needs (apart from Swift's, linked in statically)
    comes from a runtime package or one of their dependencies, as dpkg knows them here."""
    if not (shutil.which("readelf") and shutil.which("dpkg-query") and shutil.which("dpkg")):
        pytest.skip("needs readelf and dpkg (Debian)")
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
                        subprocess.run(["readelf", "-d", str(BIN)], capture_output=True, text=True, check=True).stdout)
    swift = re.compile(r"^lib(swift|Foundation|_Foundation|dispatch|BlocksRuntime)")
    runtime = dockerfile_stages()[-1]
    install = re.findall(r"install\s+(?:-\S+\s+)*([^&;]+)", runs(runtime))
    packages = {word for group in install for word in group.split() if not word.startswith("-")}
    closure, queue = set(), list(packages | {"libc6", "libgcc-s1"})
    while queue:
        package = queue.pop()
        if package in closure:
            continue
        closure.add(package)
        depends = subprocess.run(["dpkg-query", "-W", "-f=${Depends},${Pre-Depends}", package],
                                 capture_output=True, text=True).stdout
        queue += [re.split(r"[\s:(]", alt.strip())[0] for alt in re.split(r"[,|]", depends) if alt.strip()]
    missing = []
    for library in needed:
        if swift.match(library):
            continue
        owners = subprocess.run(["dpkg", "-S", f"*/{library}"], capture_output=True, text=True).stdout
        names = {line.split(":")[0] for line in owners.splitlines() if line}
        if not names & closure:
            missing.append(f"{library} ({', '.join(sorted(names)) or 'no package'})")
    assert not missing, f"the runtime stage lacks: {missing}"


def test_dockerignore_keeps_build_output_out_of_the_context() -> None:
    entries = {line.strip().strip("/") for line in DOCKERIGNORE.read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    for entry in (".build", ".venv", "artifacts", ".git"):
        assert entry in entries, f".dockerignore lacks {entry}"


# MARK: - config/centrifugo.json


def test_centrifugo_config_uses_the_v6_layout(centrifugo_config: dict) -> None:
    # Top-level keys of v5 (and older) that v6 moved into sections; v6 warns and ignores them.
    v5_keys = {"api_key", "token_hmac_secret_key", "allowed_origins", "namespaces", "history_size",
               "history_ttl", "force_recovery", "client_recovery_max_publication_limit",
               "allow_subscribe_for_client", "allow_anonymous_connect_without_token", "admin_password"}
    assert not v5_keys & centrifugo_config.keys(), f"v5 keys: {sorted(v5_keys & centrifugo_config.keys())}"
    assert isinstance(centrifugo_config.get("client"), dict), "no client section"
    assert isinstance(centrifugo_config.get("channel", {}).get("without_namespace"), dict), \
        "no channel.without_namespace: the bridge's stream_<uid> channels have no namespace"


def test_stream_channels_take_the_without_namespace_options(bridge_service_env: dict[str, str],
                                                            centrifugo_config: dict) -> None:
    """The bridge's channel for a stream must contain no namespace boundary, or Centrifugo looks
    for a namespace instead of channel.without_namespace."""
    result = check_config(bridge_service_env)
    template = effective(result.stdout, "sinks.centrifugo.channel_template") or ""
    assert "{uid}" in template, result.stdout
    boundary = centrifugo_config.get("channel", {}).get("namespace_boundary", ":")
    assert boundary not in template.replace("{uid}", ""), f"{template!r} has the namespace boundary {boundary!r}"


def test_centrifugo_keeps_and_recovers_whole_streams(centrifugo_config: dict) -> None:
    options = centrifugo_config["channel"]["without_namespace"]
    client = centrifugo_config["client"]
    size = options.get("history_size", 0)
    assert size >= 1000, f"history_size {size}: long answers lose their start"
    ttl = duration_seconds(options.get("history_ttl", "0s"))
    assert ttl >= 60, f"history_ttl {ttl}s"
    meta_ttl = duration_seconds(centrifugo_config.get("channel", {}).get("history_meta_ttl", "720h"))
    assert ttl <= meta_ttl, "Centrifugo refuses a history_ttl above history_meta_ttl"
    assert options.get("force_recovery") is True, "force_recovery is off"
    assert options.get("force_recovery_mode", "stream") == "stream", "cache mode recovers only the last publication"
    limit = client.get("recovery_max_publication_limit", 300)
    assert limit >= size, f"client.recovery_max_publication_limit {limit} < history_size {size}"
    assert options.get("allow_subscribe_for_anonymous") or options.get("allow_subscribe_for_client"), \
        "nobody may subscribe to stream channels"


def test_a_full_recovery_fits_the_client_queue(centrifugo_config: dict) -> None:
    """A recovery returns every missed publication in one subscribe reply, and Centrifugo closes a
    connection whose outgoing queue passes client.queue_max_size (1 MiB by default) as slow, so
    the client would reconnect and try again forever. The reply must fit with room to spare."""
    size = centrifugo_config["channel"]["without_namespace"]["history_size"]
    event = {"uid": "3f1c2b9e-8a47-4d2b-9a60-1c5e7f2d4b10", "seq": size, "type": "delta",
             "text": "tok ", "done": False}
    publication = json.dumps({"data": event, "offset": size}, separators=(",", ":")) + ","
    reply = size * len(publication.encode())
    queue = centrifugo_config["client"].get("queue_max_size", 1048576)
    assert queue >= 2 * reply, f"client.queue_max_size {queue} < twice a {size}-publication recovery ({reply} bytes)"

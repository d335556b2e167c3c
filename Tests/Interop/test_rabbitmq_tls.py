"""amqps:// with certificate verification against a broker with a TLS listener."""

from __future__ import annotations

import uuid

from broker import Broker, assert_complete_run, publish, read_stream
from conftest import amqp_config, unique_uid, wait_broker_up, wait_until


def test_amqps_with_the_brokers_ca_carries_prompts_and_answers(broker: Broker, start_bridge):
    queue = f"tls-{uuid.uuid4().hex[:10]}"
    bridge = start_bridge(amqp_config(broker, queue=queue, url=broker.tls_url, tls={"ca_file": str(broker.tls.ca)}))
    wait_broker_up(bridge)
    uid = unique_uid("tls")
    connection = broker.connect()
    publish(connection, {"uid": uid, "messages": [{"role": "user", "content": "hi"}]}, queue=queue)
    connection.close()
    assert assert_complete_run(read_stream(broker, f"response_{uid}"))
    connections = broker.ctl("list_connections", "ssl", "client_properties")
    assert any(line.startswith("true") and "tokenbridge" in line for line in connections.splitlines()), connections


def test_a_certificate_from_another_ca_is_refused(broker: Broker, start_bridge):
    bridge = start_bridge(amqp_config(
        broker, queue=f"tls-{uuid.uuid4().hex[:10]}", url=broker.tls_url,
        tls={"ca_file": str(broker.tls.directory / "other-ca.pem")}))
    entry = wait_until(lambda: (lambda c: c if c.get("error") else None)(bridge.health()["checks"]["rabbitmq"]), 15,
                       "the refused handshake to show in /health")
    assert entry["status"] == "down" and "connect_failed" in entry["error"], entry
    bridge.ping()


def test_a_certificate_for_another_host_is_refused_unless_hostname_checks_are_off(broker: Broker, start_bridge):
    # The certificate names localhost and 127.0.0.1; "127.0.0.2" reaches the same listener.
    url = broker.tls_url.replace("localhost", "127.0.0.2")
    strict = start_bridge(amqp_config(broker, queue=f"tls-{uuid.uuid4().hex[:10]}", url=url, tls={"ca_file": str(broker.tls.ca)}))
    entry = wait_until(lambda: (lambda c: c if c.get("error") else None)(strict.health()["checks"]["rabbitmq"]), 15,
                       "the hostname mismatch to show in /health")
    assert entry["status"] == "down", entry
    relaxed = start_bridge(amqp_config(
        broker, queue=f"tls-{uuid.uuid4().hex[:10]}", url=url, tls={"ca_file": str(broker.tls.ca), "verify_hostname": False}))
    wait_broker_up(relaxed)

"""GET /health and GET /health/active (SPEC R4): moto table, real PostgreSQL reader."""

from __future__ import annotations

import pytest

from tests.postgres_server import free_port

PRIMARY = "us-east-1"
SECONDARY = "us-east-2"


@pytest.mark.parametrize(
    ("active_region", "state", "role", "active_status"),
    [
        (PRIMARY, "active", "active", 200),
        (SECONDARY, "active", "passive", 503),
        (PRIMARY, "failing_over", "failing_over", 503),
        (SECONDARY, "failing_over", "failing_over", 503),
    ],
    ids=["active", "passive", "active-failing-over", "passive-failing-over"],
)
def test_healthy_region_reports_its_role(env, api, active_region, state, role, active_status):
    env.put_control(active_region=active_region, state=state, epoch=3)

    health = api("GET", "/health")
    active = api("GET", "/health/active")

    assert health.status == 200  # a healthy passive region is healthy
    assert health.body == {
        "region": PRIMARY,
        "role": role,
        "healthy": True,
        "active_region": active_region,
        "epoch": 3,
        "checks": {"table": "ok", "database": "ok"},
    }
    assert active.status == active_status
    assert active.body["role"] == role
    if active_status == 503:
        assert active.body["reason"] == f"region is {role}"


@pytest.mark.parametrize("variable", ["DB_READER_ENDPOINT", "DB_PORT"])
def test_unreachable_reader_fails_health_naming_the_database(env, api, variable):
    env.put_control(active_region=PRIMARY)
    # Nothing listens there: the server is bound to 127.0.0.1 on its own port only.
    env.set_env(variable, "127.0.0.2" if variable == "DB_READER_ENDPOINT" else str(free_port()))

    health = api("GET", "/health")
    active = api("GET", "/health/active")

    assert health.status == 503
    assert health.body["checks"] == {"table": "ok", "database": "error"}
    assert health.body["failing"] == ["database"]
    assert health.body["errors"] == {"database": "InterfaceError"}
    assert health.body["role"] == "active"
    assert active.status == 503
    assert active.body["reason"] == "unhealthy"


def test_missing_table_fails_health_naming_the_table(env, api):
    env.set_env("TABLE_NAME", "trading-test-does-not-exist")

    health = api("GET", "/health")
    active = api("GET", "/health/active")

    assert health.status == 503
    assert health.body["checks"] == {"table": "error", "database": "ok"}
    assert health.body["failing"] == ["table"]
    assert health.body["errors"] == {"table": "ResourceNotFoundException"}
    assert health.body["role"] == "passive"
    assert active.status == 503


def test_missing_control_record_is_healthy_but_not_active(env, api):
    health = api("GET", "/health")
    active = api("GET", "/health/active")

    assert health.status == 200
    assert (health.body["role"], health.body["active_region"]) == ("passive", None)
    assert active.status == 503
    assert active.body["reason"] == "region is passive"


def test_health_recovers_after_a_dropped_reader_connection(env, api, postgres):
    env.put_control(active_region=PRIMARY)
    assert api("GET", "/health").status == 200
    # Aurora reboots and failovers cut pooled connections; the next probe must reconnect.
    admin = postgres.admin_connection()
    try:
        killed = admin.run(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :user",
            user=postgres.user,
        )
    finally:
        admin.close()

    health = api("GET", "/health")

    assert len(killed) >= 1
    assert health.status == 200
    assert health.body["checks"] == {"table": "ok", "database": "ok"}

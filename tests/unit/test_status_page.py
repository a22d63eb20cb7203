"""The status page's model: failing first, and each level for the reason an on-call engineer would give."""

from ansible_collections.steadyops.stack.plugins.filter.status_page import status_page

BUDGET = {"max_restarts": 3, "window_runs": 12}


def service(active="active", healthy=True, orphan=None, http_status=200):
    return {
        "unit": "tms-api@8000.service",
        "active": active,
        "healthy": healthy,
        "port": {"port": 8000, "owners_in_unit": [] if orphan else [812], "orphans": [orphan] if orphan else []},
        "http": {"url": "http://127.0.0.1:8000/health", "status": http_status, "latency_ms": 3.1},
    }


def host(name, services, restarts=None, findings=None):
    return {
        "name": name,
        "look": {
            "services": services,
            "restarts": restarts or {},
            "restart_budget": BUDGET,
            "findings": findings or [],
            "last_alert": None,
        },
        "release": {"current": "52f5030d6f56", "previous": "a1b2c3d4e5f6"},
        "drift": {},
    }


def test_failing_hosts_and_services_come_first():
    page = status_page(
        [
            host("staging-1", {"tms-api": service(), "tms-worker": service()}),
            host(
                "staging-2",
                {"tms-api": service(), "tms-worker": service(active="inactive", healthy=False)},
                findings=[{"level": "CRITICAL", "check": "tms-worker:unit", "text": "tms-worker.service is inactive"}],
            ),
        ]
    )
    assert [h["name"] for h in page["hosts"]] == ["staging-2", "staging-1"]
    rows = [(s["name"], s["level"]) for s in page["hosts"][0]["services"]]
    assert rows == [("tms-worker", "failing"), ("tms-api", "ok")]
    assert page["counts"] == {"failing": 1, "warning": 0, "ok": 3}
    assert page["level"] == "failing"


def test_an_orphan_on_the_port_is_named():
    orphan = {"pid": 4242, "cmdline": "next-server (v14.2.3)"}
    row = status_page([host("h", {"tms-frontend": service(healthy=False, orphan=orphan)})])["hosts"][0]["services"][0]
    assert row["level"] == "failing"
    assert row["port"] == ":8000 held by pid 4242 (next-server (v14.2.3)) outside the unit"


def test_restarts_in_the_window_warn_and_a_spent_budget_fails():
    page = status_page(
        [host("h", {"a": service(), "b": service(), "c": service()}, restarts={"a": [7], "b": [5, 6, 7], "c": []})]
    )
    levels = {s["name"]: (s["level"], s["restarts"]) for s in page["hosts"][0]["services"]}
    assert levels == {
        "a": ("warning", "1 of 3 in the last 12 runs"),
        "b": ("failing", "3 of 3 in the last 12 runs"),
        "c": ("ok", "0 of 3 in the last 12 runs"),
    }


def test_a_host_that_did_not_answer_is_failing_and_listed():
    page = status_page([host("staging-1", {"tms-api": service()})], ["staging-1", "staging-2"])
    unreachable = page["hosts"][0]
    assert (unreachable["name"], unreachable["level"], unreachable["reachable"]) == ("staging-2", "failing", False)


def test_a_host_warning_keeps_its_services_ok():
    warning = [{"level": "WARNING", "check": "host:disk:/", "text": "disk / 91% used"}]
    page = status_page([host("h", {"tms-api": service()}, findings=warning)])
    assert page["hosts"][0]["level"] == "warning"
    assert page["hosts"][0]["findings"] == warning
    assert page["counts"] == {"failing": 0, "warning": 0, "ok": 1}

"""The status page's model: failing first, and each level for the reason an on-call engineer would give."""

from ansible_collections.steadyops.stack.plugins.filter.status_page import drift_entries, status_page

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


def queue(states, stuck=0, dead=0, lock="acquired"):
    """What the maintenance role keeps (maintenance_queue_results) of a queue_purge count (check mode) of one table."""
    return {
        "table": "tds_sync_queue",
        "lock": lock,
        "states_before": states,
        "dead_letters_before": dead,
        "rescued": {"rescue stuck > 60.0 min": stuck} if stuck else {},
    }


def with_queue_and_audit(queues, invalid=None):
    entry = host("h", {"tms-api": service()})
    entry["queues"] = queues
    entry["maintenance"] = {
        "finished": "2026-11-29 03:00:00 UTC",
        "email_audit": {
            "policy": "production",
            "totals": {"checked": 3, "invalid": len(invalid or {}), "would_fail_in": {}},
            "invalid": invalid or {},
        },
    }
    return status_page([entry])["hosts"][0]


def test_a_calm_queue_and_a_clean_audit_leave_the_host_ok():
    model = with_queue_and_audit([queue({"completed": 40, "pending": 2})])
    assert model["level"] == "ok"
    assert model["queues"] == [
        {"table": "tds_sync_queue", "states": "completed 40, pending 2", "problems": "", "level": "ok"}
    ]
    assert model["email_audit"]["level"] == "ok"
    assert model["email_audit"]["checked"] == 3


def test_stuck_rows_and_dead_letters_warn_and_say_how_many():
    model = with_queue_and_audit([queue({"processing": 5, "dead_letter": 2}, stuck=5, dead=7)])
    assert model["level"] == "warning"
    assert model["queues"][0]["problems"] == "5 stuck in processing; 2 dead-lettered; 7 in the dead-letter table"
    assert model["queues"][0]["level"] == "warning"


def test_dead_letters_are_found_under_the_tables_own_state_name():
    river = queue({"available": 3, "discarded": 4})
    river["state_names"] = {"pending": "available", "dead_letter": "discarded"}
    model = with_queue_and_audit([river])
    assert model["queues"][0]["problems"] == "4 dead-lettered"
    assert model["queues"][0]["states"] == "available 3, discarded 4"


def test_a_queue_another_purge_held_is_not_taken_for_calm():
    model = with_queue_and_audit([queue({}, lock="busy")])
    assert model["queues"][0]["problems"] == "not counted: a purge was running"
    assert model["level"] == "warning"


def test_a_queue_whose_maintenance_would_fail_warns_with_the_reason():
    blocked = queue({"completed": 1000})
    blocked["error"] = 'queue_purge would fail after 600 row(s) were changed: ... constraint "job_events_job_id_fkey"'
    model = with_queue_and_audit([blocked])
    assert model["queues"][0]["problems"] == "maintenance would fail: " + blocked["error"]
    assert model["queues"][0]["level"] == "warning"
    assert model["level"] == "warning"


def test_an_invalid_address_in_the_audit_warns_with_its_reason():
    model = with_queue_and_audit([], invalid={"test@gmail.test": "special_use_domain"})
    assert model["level"] == "warning"
    assert model["email_audit"]["invalid"] == [("test@gmail.test", "special_use_domain")]


def test_a_host_never_maintained_shows_no_audit():
    entry = host("h", {"tms-api": service()})
    assert status_page([entry])["hosts"][0]["email_audit"] is None


def test_a_drift_found_and_corrected_is_listed_once_as_corrected():
    unit = {"role": "systemd_hardening", "task": "Write each service's unit", "item": "tms-api"}
    worker = {"role": "systemd_hardening", "task": "Start or restart each service", "item": "tms-worker.service"}
    drift = {
        "run": "20261207T030000",
        "drifted": [dict(unit, summary="would change 2 lines"), dict(worker, summary="would start")],
        "corrected": [dict(unit, summary="changed 2 lines")],
    }
    entry = host("h", {"tms-api": service()})
    entry["drift"] = drift
    model = status_page([entry])["hosts"][0]
    assert (
        model["drift"]["entries"]
        == drift_entries(drift)
        == [
            dict(worker, summary="would start", state="drifted"),
            dict(unit, summary="changed 2 lines", state="corrected"),
        ]
    )

"""The health check program's config rules: each setting of the wrong type or range is refused by name."""

import copy

import pytest
from ansible_collections.steadyops.stack.plugins.module_utils._health_config import config_problems

VALID = {
    "services": [
        {
            "name": "tms-api",
            "port": 8000,
            "health": {"url": "http://127.0.0.1:8000/health", "status": 200, "timeout": 30},
            "stray_patterns": ["app.py"],
            "stray_users": ["tmsapp"],
            "gapless_ports": [8000, 8001],
        }
    ],
    "app_root": "/opt/tms",
    "restart": True,
    "restart_budget": {"max_restarts": 3, "window_runs": 12},
    "restart_settle_seconds": 30,
    "free_port": True,
    "thresholds": {"disk_percent": 90, "memory_percent": 90, "zombies": 5},
    "disk_paths": ["/"],
    "smtp": {
        "host": "",
        "port": 25,
        "starttls": False,
        "ca_file": "",
        "user": "",
        "password": "s3cret-pw",
        "from": "health@tms.test",
        "to": [],
    },
    "webhook": {"url": "https://hooks.example.com/services/T0/B0/tok3n", "format": "slack", "ca_file": ""},
    "textfile": "/var/lib/prometheus/node-exporter/steadyops.prom",
    "state_dir": "/var/lib/steadyops/health",
    "status_file": "/var/lib/steadyops/health/status.json",
}

# (path, values refused there): text where a number or list belongs, booleans for numbers, ranges.
REFUSED = [
    (("restart",), ["yes", 1, None]),
    (("free_port",), ["false", 0]),
    (("restart_budget", "max_restarts"), ["3", -1, True, 2.5, None]),
    (("restart_budget", "window_runs"), [0, "12"]),
    (("restart_settle_seconds",), ["30", -1, False]),
    (("thresholds", "disk_percent"), ["90", 101, -5, True]),
    (("thresholds", "memory_percent"), [100.5, "x"]),
    (("thresholds", "zombies"), ["5", 1.5]),
    (("disk_paths",), ["/var", [], ["var"], [1]]),
    (("smtp", "port"), ["25", 0, 65536, True]),
    (("smtp", "starttls"), ["yes"]),
    (("smtp", "to"), ["ops@tms.test", [""], [None]]),
    (("smtp", "host"), [5, None]),
    (("smtp", "ca_file"), ["ca.pem", 1]),
    # A webhook's alert (and the token in its URL) never goes unencrypted off the host.
    (("webhook", "url"), ["http://hooks.example.com/x", "ftp://hooks.example.com/x", "https://", "https://a b/x", 5]),
    (("webhook", "format"), ["teams", None]),
    (("webhook", "ca_file"), ["ca.pem"]),
    # node_exporter's textfile collector reads only *.prom files.
    (("textfile",), ["steadyops.prom", "/var/lib/node-exporter/steadyops.txt", 1]),
    (("app_root",), ["opt/tms", None]),
    (("state_dir",), ["", "state"]),
    (("status_file",), ["status.json"]),
    (("services", 0, "name"), ["", 5]),
    (("services", 0, "port"), ["8000", 0, 70000, True]),
    (("services", 0, "health", "status"), ["200", 99, 600]),
    (("services", 0, "health", "timeout"), ["30", 0, True]),
    (("services", 0, "stray_patterns"), ["app.py", [1]]),
    (("services", 0, "gapless_ports"), [[8000, "8001"], 8000]),
]


def with_value(path, value):
    config = copy.deepcopy(VALID)
    target = config
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return config


def shown(path):
    return "".join(
        "[%d]" % key if isinstance(key, int) else ("." if index else "") + key for index, key in enumerate(path)
    )


def test_the_config_the_role_writes_is_taken():
    assert config_problems(VALID) == []


@pytest.mark.parametrize(
    ("path", "value"), [(path, value) for path, values in REFUSED for value in values], ids=repr
)  # fmt: skip
def test_a_setting_of_the_wrong_type_or_range_is_refused_naming_it(path, value):
    problems = config_problems(with_value(path, value))
    assert len(problems) >= 1, (path, value)
    assert problems[0].startswith(shown(path)), problems


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("services", 0, "port"), None),
        (("services", 0, "health", "timeout"), 2.5),
        (("app_root",), ""),
        (("smtp", "ca_file"), "/etc/ssl/relay.pem"),
        (("thresholds", "disk_percent"), 87.5),
        (("smtp", "to"), ["a@b.test"]),
        (("webhook", "url"), ""),
        (("webhook", "url"), "http://127.0.0.1:9093/api/v2/alerts"),
        (("webhook", "url"), "http://localhost/hook"),
        (("webhook", "format"), "alertmanager"),
        (("textfile",), ""),
    ],
)
def test_each_setting_takes_what_the_program_uses(path, value):
    assert config_problems(with_value(path, value)) == []


def test_an_unknown_setting_is_a_typo_and_is_refused():
    config = with_value(("smtp", "sender"), "a@b.test")
    config["retries"] = 3
    assert config_problems(config) == [
        "config.retries is not a setting the health check knows (%s)" % ", ".join(VALID),
        "smtp.sender is not a setting the health check knows (host, port, starttls, ca_file, user, password, from, to)",
    ]


def test_the_smtp_password_is_never_shown():
    problems = config_problems(with_value(("smtp", "password"), ["s3cret-pw"]))
    assert problems == ["smtp.password is ********: must be text"]


def test_the_webhook_url_and_its_token_are_never_shown():
    problems = config_problems(with_value(("webhook", "url"), "http://hooks.example.com/services/T0/B0/tok3n"))
    assert problems == [
        "webhook.url is ********: plain http only to this host (localhost): the alert and the URL's token would go"
        " unencrypted"
    ]


def test_a_file_that_is_not_a_mapping_is_refused_whole():
    assert config_problems(["services"]) == ["config is ['services']: must be a mapping"]

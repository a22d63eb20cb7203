"""The whole service model is checked once: every problem names the entry and the field."""

import pytest
from ansible_collections.steadyops.stack.plugins.filter.service_model import (
    after_units,
    cutover_plan,
    running_instances,
    service_instances,
    stray_spec,
    with_port,
)
from ansible_collections.steadyops.stack.plugins.module_utils import _input_rules, _service_model

API = {"name": "api", "exec": "/bin/api", "port": 8000, "after": ["postgresql.service"]}
WEB = {"name": "web", "exec": "/bin/web", "port": 3000, "gapless_port": 3001, "after": ["api"]}
WORKER = {"name": "worker", "exec": "/bin/worker", "after": ["api.service"]}
NGINX = {"name": "nginx", "packaged": True}


def with_change(index, **fields):
    services = [dict(API), dict(WEB), dict(WORKER), dict(NGINX)]
    services[index].update(fields)
    return services


def test_the_example_stack_is_usable():
    assert _service_model.model_problems([API, WEB, WORKER, NGINX]) == []


@pytest.mark.parametrize(
    ("services", "expected"),
    [
        (with_change(1, port=8000), "stack_services[1] (web).port: port 8000 is already taken by stack_services[0]"),
        (with_change(0, port="8000"), "stack_services[0] (api).port: '8000' is not a port"),
        (with_change(1, gapless_port=8000), "stack_services[1] (web).gapless_port: port 8000 is already taken"),
        (with_change(1, gapless_port=3000), "stack_services[1] (web).gapless_port: port 3000 is already taken"),
        (with_change(2, gapless_port=4000), "stack_services[2] (worker).gapless_port: a gapless service needs"),
        (with_change(3, port=80, gapless_port=81), "stack_services[3] (nginx).gapless_port: a packaged unit"),
        (with_change(0, port=70000), "stack_services[0] (api).port: 70000 is not a port"),
        (with_change(0, port=True), "stack_services[0] (api).port: True is not a port"),
        (with_change(1, after=["apii"]), "stack_services[1] (web).after[0]: 'apii' is not a service of stack_services"),
        (with_change(0, after=["postgresql"]), "stack_services[0] (api).after[0]: 'postgresql' is not a service"),
        (with_change(1, after="api"), "stack_services[1] (web).after: must be a list"),
        (with_change(2, name="api"), "stack_services[2] (api).name: api is listed twice"),
        (with_change(2, name="../../etc/x"), "stack_services[2] (../../etc/x).name: '../../etc/x' is not a usable"),
        (with_change(2, name="x\n"), "stack_services[2] (x\n).name: 'x\\n' is not a usable unit name"),
        (with_change(2, exec=None), "stack_services[2] (worker).exec: needed unless the unit is packaged"),
        (with_change(2, stray_patterns="worker.py"), "stack_services[2] (worker).stray_patterns: must be a list"),
        (with_change(2, stray_patterns=[""]), "stack_services[2] (worker).stray_patterns: must be a list"),
        (
            with_change(2, stray_patterns=[".*"]),
            "stack_services[2] (worker).stray_patterns: '.*' matches every process",
        ),
        (
            with_change(2, stray_patterns=["(worker"]),
            "stack_services[2] (worker).stray_patterns: '(worker' is not a valid regular expression",
        ),
        (
            with_change(0, health={"url": "http://127.0.0.1:3000/\r\nX-Injected: 1"}),
            "stack_services[0] (api).health.url: 'http://127.0.0.1:3000/\\r\\nX-Injected: 1' is not an http(s) URL",
        ),
        (
            with_change(0, health={"url": "file:///etc/passwd"}),
            "stack_services[0] (api).health.url: 'file:///etc/passwd' is not an http(s) URL",
        ),
        (with_change(0, health="http://x/"), "stack_services[0] (api).health: a mapping with url"),
        # Everything written into the unit is one line: a line break would add a directive.
        (with_change(0, exec="/bin/api\nExecStartPre=+/bin/sh"), "stack_services[0] (api).exec: one line of text"),
        (with_change(0, description="API\nUser=root"), "stack_services[0] (api).description: one line of text"),
        # A trailing backslash joins the next line of the unit: the directive after it would be lost.
        (with_change(0, exec="/bin/api --flag \\"), "stack_services[0] (api).exec: ends with a backslash"),
        (with_change(0, description="API \\"), "stack_services[0] (api).description: ends with a backslash"),
        (with_change(0, unit_overrides={"Nice": "1\\"}), "stack_services[0] (api).unit_overrides 'Nice'"),
        # Each found by the generated values that systemd read back otherwise (molecule/hostile).
        (with_change(0, exec="/bin/api 'it"), "stack_services[0] (api).exec: a quote is not closed"),
        (with_change(0, exec="/bin/api a ; /bin/sh"), "stack_services[0] (api).exec: a ';' word starts a second"),
        (with_change(0, description=" API"), "stack_services[0] (api).description: starts or ends with a space"),
        (with_change(0, unit_overrides={"Nice": "1 "}), "stack_services[0] (api).unit_overrides 'Nice'"),
        (with_change(0, stray_patterns=["api\r"]), "stack_services[0] (api).stray_patterns: 'api\\r' holds a line"),
        (with_change(2, name="wk@"), "stack_services[2] (wk@).name: 'wk@' is not a usable unit name"),
        (with_change(2, name="a@b@c"), "stack_services[2] (a@b@c).name: 'a@b@c' is not a usable unit name"),
        (with_change(1, name="web@x"), "stack_services[1] (web@x).name: a gapless service runs as NAME@PORT"),
        (with_change(2, name="API"), "stack_services[2] (API).name: API is listed twice"),
        (with_change(0, after=["backup@.timer"]), "stack_services[0] (api).after[0] 'backup@.timer': a unit name"),
        (with_change(0, after=["db service"]), "stack_services[0] (api).after[0] 'db service': a unit name"),
        (with_change(0, user="tms\nUser=root"), "stack_services[0] (api).user 'tms\\nUser=root': an account name"),
        (with_change(0, group="tms root"), "stack_services[0] (api).group 'tms root': an account name"),
        (with_change(0, working_directory="/opt/../etc"), "stack_services[0] (api).working_directory '/opt/../etc'"),
        (with_change(0, read_write_paths=["/var/x\nA=b"]), "stack_services[0] (api).read_write_paths[0]"),
        (with_change(0, unit_overrides={"Nice=1\nUser": "root"}), "stack_services[0] (api).unit_overrides 'Nice=1"),
        (with_change(0, unit_overrides={"Nice": "1\nUser=root"}), "stack_services[0] (api).unit_overrides 'Nice'"),
        (with_change(0, unit_overrides={"Environment": {"A": 1}}), "stack_services[0] (api).unit_overrides"),
        (with_change(0, env={"PORT": "1"}), "stack_services[0] (api).env: PORT is set by the unit"),
        ("web", "stack_services must be a list"),
    ],
)
def test_each_problem_names_the_entry_and_field(services, expected):
    found = _service_model.model_problems(services)
    assert len(found) == 1, found
    assert found[0].startswith(expected), found


def test_a_service_listed_before_its_dependency_is_an_order_problem():
    found = _service_model.model_problems([WORKER, API, WEB])
    assert found == ["worker starts after api but is listed before it"]


def test_instances_are_one_unit_per_port_of_a_gapless_service():
    instances = service_instances([API, WEB, WORKER])
    assert [(i["unit"], i["port"], i["gapless"]) for i in instances] == [
        ("api.service", 8000, False),
        ("web@3000.service", 3000, True),
        ("web@3001.service", 3001, True),
        ("worker.service", None, False),
    ]


def test_a_gapless_service_runs_its_enabled_instance_or_else_its_first():
    instances = service_instances([API, WEB, WORKER])
    first = [i["unit"] for i in running_instances(instances, [])]
    assert first == ["api.service", "web@3000.service", "worker.service"]
    switched = [i["unit"] for i in running_instances(instances, ["web@3001.service"])]
    assert switched == ["api.service", "web@3001.service", "worker.service"]


def test_cutover_moves_a_changed_gapless_service_to_its_idle_instance():
    instances = service_instances([API, WEB, WORKER])
    plan = cutover_plan(instances, ["web@3001.service"], ["web", "worker"])
    moves = [(p["name"], p["serving"]["unit"], p["start"]["unit"], p["restart"]) for p in plan]
    assert moves == [
        ("api", "api.service", "api.service", False),
        ("web", "web@3001.service", "web@3000.service", True),
        ("worker", "worker.service", "worker.service", True),
    ]


def test_nothing_to_restart_keeps_every_instance_where_it_is():
    plan = cutover_plan(service_instances([API, WEB]), [], [])
    assert [(p["serving"]["unit"], p["start"]["unit"], p["restart"]) for p in plan] == [
        ("api.service", "api.service", False),
        ("web@3000.service", "web@3000.service", False),
    ]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:3000/health", "http://127.0.0.1:3001/health"),
        ("http://127.0.0.1:3000/health?x=1", "http://127.0.0.1:3001/health?x=1"),
        ("http://127.0.0.1:8000/health", "http://127.0.0.1:8000/health"),
    ],
)
def test_a_health_url_follows_the_instance_port(url, expected):
    assert with_port(url, 3000, 3001) == expected


def test_each_instance_carries_its_own_health_url_and_the_stray_patterns():
    web = dict(WEB, health={"url": "http://127.0.0.1:3000/health"}, stray_patterns=["next-server"])
    second = service_instances([web])[1]
    assert second["health"]["url"] == "http://127.0.0.1:3001/health"
    assert stray_spec(second, "tmsapp") == {
        "unit": "web@3001.service",
        "patterns": ["next-server"],
        "users": ["tmsapp"],
    }
    assert stray_spec(web)["unit"] == "web.service"


def test_without_gapless_switching_a_gapless_service_restarts_in_place():
    plan = cutover_plan(service_instances([WEB]), ["web@3001.service"], ["web"], False)
    assert [(p["serving"]["unit"], p["start"]["unit"], p["restart"]) for p in plan] == [
        ("web@3001.service", "web@3001.service", True)
    ]


ROUTES = [{"path": "/api/", "service": "api", "health": "/api/health"}, {"path": "/", "service": "web"}]


def test_the_example_routes_and_server_name_are_usable():
    assert _input_rules.route_problems(ROUTES, [API, WEB, WORKER], "staging-1 tms.example.com") == []


@pytest.mark.parametrize(
    ("route", "server_name", "expected"),
    [
        ({"path": "/x/ { location /y/ { alias /etc/; }", "service": "api"}, None, "routes[0].path '/x/ { location"),
        ({"path": "/x/;", "service": "api"}, None, "routes[0].path '/x/;'"),
        ({"path": "/x/\nreturn 200;", "service": "api"}, None, "routes[0].path '/x/\\nreturn 200;'"),
        ({"path": "/../x/", "service": "api"}, None, "routes[0].path '/../x/'"),
        ({"path": "x/", "service": "api"}, None, "routes[0].path 'x/'"),
        ({"path": "/x/", "service": "api", "health": "/h;x"}, None, "routes[0].health '/h;x'"),
        ({"path": "/x/", "service": "worker"}, None, "routes[0].service 'worker': not a service"),
        ({"path": "/x/", "service": "api"}, "a; include /etc/x", "server_name 'a; include /etc/x'"),
        ({"path": "/x/", "service": "api"}, "a\nb", "server_name 'a\\nb'"),
        ({"path": "/x/", "service": "api"}, "x*y.example.org", "server_name 'x*y.example.org'"),
        ({"path": "/x/", "service": "api"}, "*.example.*", "server_name '*.example.*'"),
        # The deploy checks a route with its Host header: a line break would add a header of its own.
        ({"path": "/x/", "service": "api", "host": "x\r\nX-Evil: 1"}, None, "routes[0].host 'x\\r\\nX-Evil: 1'"),
        ({"path": "/x/", "service": "api", "hots": "x"}, None, "routes[0]: unknown key(s) hots"),
    ],
)
def test_a_route_or_server_name_nginx_would_parse_as_more_is_refused(route, server_name, expected):
    found = _input_rules.route_problems([route], [API, WEB, WORKER], server_name)
    assert len(found) == 1, found
    assert found[0].startswith(expected), found


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("/opt/tms", True),
        ("/etc/steadyops/health.json", True),
        ("/var/log/steadyops-health.log", True),
        ("opt/tms", False),
        ("/opt/../etc", False),
        ("/opt/./tms", False),
        ("/etc/x.json; rm -rf /", False),
        ("/var/log/x.log\nExecStartPre=/bin/true", False),
        ("/opt/my app", False),
        ("/opt/$HOME", False),
        (None, False),
    ],
)
def test_paths_written_into_root_read_files_are_plain_and_absolute(value, ok):
    found = _input_rules.path_problems({"health_check_config": value})
    assert (found == []) is ok, found
    if not ok:
        assert found[0].startswith("health_check_config %r: an absolute path" % (value,))


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"x_host": "mail.example.com", "x_port": 587, "x_from": "ops@example.com", "x_to": ["a@b.example"]}, []),
        ({"x_from": ""}, []),  # the program's own default sender
        ({"x_port": 99999}, ["x_port 99999: a port from 1 to 65535"]),
        ({"x_port": True}, ["x_port True: a port from 1 to 65535"]),
        ({"x_host": "mail\nRCPT TO:<x@y>"}, ["x_host 'mail\\nRCPT TO:<x@y>': a host name or address"]),
        ({"x_to": ["ops@example.com\nBcc: attacker@evil.example"]}, ["x_to 'ops@example.com\\nBcc: attacker"]),
        ({"x_to": ["a@b.example, c@d.example"]}, ["x_to 'a@b.example, c@d.example': one plain address"]),
        ({"x_from": "Ops <ops@example.com>"}, ["x_from 'Ops <ops@example.com>': one plain address"]),
        ({"x_to": "ops@example.com\n"}, ["x_to 'ops@example.com\\n': one plain address"]),
    ],
)
def test_mail_settings_that_would_break_a_header_or_smtp_are_refused(settings, expected):
    found = _input_rules.mail_problems(settings)
    assert len(found) == len(expected)
    for problem, start in zip(found, expected, strict=True):
        assert problem.startswith(start), problem


def test_unit_overrides_of_plain_values_and_lists_are_usable():
    assert (
        _service_model.model_problems(with_change(0, unit_overrides={"Nice": 5, "ReadOnlyPaths": ["/a", "/b"]})) == []
    )


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("deploy", True),
        ("tms_app-2", True),
        ("root\nALL", False),
        ("deploy ALL", False),
        ("Deploy", False),
        ("", False),
    ],
)
def test_account_names_are_one_plain_word(name, ok):
    assert (_input_rules.account_problems({"x": name}) == []) is ok


@pytest.mark.parametrize("profile", ["strict", "standard"])
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"user": "root"}, "user"),
        ({"group": "root"}, "group"),
        ({"exec": "+/usr/bin/python3 app.py"}, "exec"),
        ({"exec": "-!/usr/bin/python3 app.py"}, "exec"),
        ({"exec": "@!!/usr/bin/python3 python3 app.py"}, "exec"),
        ({"unit_overrides": {"User": "root"}}, "unit_overrides.User"),
        ({"unit_overrides": {"Group": "root"}}, "unit_overrides.Group"),
        ({"unit_overrides": {"DynamicUser": False}}, "unit_overrides.DynamicUser"),
        ({"unit_overrides": {"ExecStartPre": "+/bin/touch /marker"}}, "unit_overrides.ExecStartPre"),
        ({"unit_overrides": {"ExecStartPost": ["/bin/true", "!/bin/touch /marker"]}}, "unit_overrides.ExecStartPost"),
    ],
)
def test_strict_and_standard_never_run_anything_as_root(profile, change, field):
    problems = _service_model.model_problems(with_change(0, hardening=profile, **change))
    assert any(p.startswith("stack_services[0] (api).%s" % field) and "as root" in p for p in problems), problems


@pytest.mark.parametrize(
    "change",
    [
        {"hardening": "minimal", "user": "root"},
        {"hardening": "minimal", "exec": "+/usr/bin/python3 app.py"},
        {"exec": "-/usr/bin/python3 app.py"},  # "-" only ignores a failure
        {"unit_overrides": {"ExecStartPre": "-/bin/true"}},
    ],
)
def test_what_does_not_raise_privileges_is_usable(change):
    assert _service_model.model_problems(with_change(0, **change)) == []


def test_a_packaged_unit_runs_as_its_package_says():
    assert _service_model.model_problems(with_change(3, unit_overrides={"User": "www-data"})) == []


def test_every_boolean_of_the_model_is_checked_as_one():
    declared = tuple(sorted(name for name, spec in _service_model.model().items() if spec.get("type") == "bool"))
    assert declared == _service_model.BOOLEAN_FIELDS


@pytest.mark.parametrize("value", ["no", "false", "yes", 0, 1])
def test_a_boolean_that_is_not_one_is_refused(value):
    problems = _service_model.model_problems(with_change(3, packaged=value))
    expected = "stack_services[3] (nginx).packaged %r: true or false" % (value,)
    assert any(p.startswith(expected) for p in problems), problems


def test_a_route_may_name_the_host_it_is_checked_with():
    route = {"path": "/x/", "service": "api", "host": "tms.example.com:8080"}
    assert _input_rules.route_problems([route], [API, WEB, WORKER]) == []


@pytest.mark.parametrize(
    ("name", "unit"),
    [("api", "api.service"), ("api.service", "api.service"), ("backup.timer", "backup.timer"),
     ("postgresql.target", "postgresql.target"), ("tmp.mount", "tmp.mount"), ("web@3000", "web@3000.service")],
)  # fmt: skip
def test_one_rule_names_a_unit(name, unit):
    assert _service_model.unit_name(name) == unit


def test_a_gapless_service_is_started_after_as_both_of_its_instances():
    # WEB is gapless (3000/3001): no web.service exists to order after, only its instances.
    units = after_units(["web", "api", "backup.timer", "postgresql.service"], [API, WEB, WORKER])
    assert units == ["web@3000.service", "web@3001.service", "api.service", "backup.timer", "postgresql.service"]
    assert after_units([], [API, WEB]) == []
    # Wanting both would start the idle instance too: Wants= leaves a gapless service out.
    assert after_units(["web", "api"], [API, WEB, WORKER], wanted=True) == ["api.service"]


def test_a_timer_or_path_unit_is_a_unit_to_start_after():
    services = with_change(0, after=["backup.timer", "spool.path", "postgresql.service"])
    assert _service_model.model_problems(services) == []


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("/", False), ("/etc", False), ("/etc/", False), ("//etc", False), ("/usr/local/lib", False),
        ("/var/lib", False), ("/etc/systemd/system", False), ("/etc/nginx/sites-enabled", False),
        ("/proc/1", False), ("/sys/fs/cgroup/x", False), ("/opt", False), ("/home", False),
        ("/opt/tms", True), ("/opt/tms/shared", True), ("/etc/steadyops", True), ("/usr/local/lib/steadyops", True),
        ("/var/lib/steadyops", True), ("/srv/tms", True), ("/etc/nginx/steadyops-upstreams", True),
    ],
)  # fmt: skip
def test_a_system_directory_is_never_taken(value, ok):
    found = _input_rules.path_problems({"env_file_dir": value})
    assert (found == []) is ok, found
    if not ok:
        assert found == ["env_file_dir %r: a directory of the system's own, which the role would take over "
                         "(owner and mode); give one of the stack's own, such as /opt/tms" % (value,)]  # fmt: skip

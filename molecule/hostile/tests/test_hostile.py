"""Hostile and mistaken values through provision.yml on provisioned lab hosts.

Each case changes one value, the way an inventory would (extra vars), and runs
the real playbook. It must be refused with a message naming the value, change
none of the files root and systemd read, and print no secret. The cases are
split over the two lab hosts and run on both at once.
"""

import copy
import json
import os
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "/nonexistent"))
PREFIX = os.environ.get("STEADYOPS_LAB_PREFIX", "")
HOSTS = [PREFIX + "staging-1", PREFIX + "staging-2"]
MODEL = yaml.safe_load((PROJECT / "inventories/staging/group_vars/staging/stack.yml").read_text())
SECRET = "demo-db-password-4f1c"  # noqa: S105 - the demo vault's throwaway value, looked for in output
# What root and systemd read, and the app root: names, types, modes, owners, link targets and contents.
WATCHED = "/etc/systemd/system /etc/sudoers.d /etc/nginx /var/spool/cron/crontabs /opt/tms /etc/steadyops"
CHECKSUM = (
    "find %s -xdev -printf '%%p %%y %%m %%U %%G %%l\\n' 2>/dev/null | sort | sha256sum; "
    "find %s -xdev -type f -exec sha256sum {} + 2>/dev/null | sort | sha256sum" % (WATCHED, WATCHED)
)
INJECTED = "ExecStartPre=+/bin/touch /run/injected"


def services(index, **fields):
    changed = copy.deepcopy(MODEL["stack_services"])
    changed[index].update(fields)
    return {"stack_services": changed}


def route(path):
    return {"stack_nginx_routes": [{"path": path, "service": "tms-api"}]}


API_EXEC = MODEL["stack_services"][0]["exec"]
SSH_SOURCE = {"type": "git", "repo": "git@git.example.internal:tms/app.git", "version": "main"}

# (id, extra vars, what the refusal must say). Classes of the issue, each with
# a newline, a separator, a traversal or a type trick where they apply.
CASES = [
    # Units
    ("exec-newline", services(0, exec=API_EXEC + "\n" + INJECTED), "(tms-api).exec"),
    ("description-newline", services(0, description="TMS API\n" + INJECTED), "(tms-api).description"),
    ("after-newline", services(0, after=["postgresql.service\n" + INJECTED]), "(tms-api).after[0]"),
    ("override-key-newline", services(0, unit_overrides={"Nice=1\nExecStartPre": "+/bin/true"}), "unit_overrides"),
    ("override-value-newline", services(0, unit_overrides={"Nice": "1\n" + INJECTED}), "unit_overrides"),
    ("user-newline", services(0, user="tmsapp\n" + INJECTED), "(tms-api).user"),
    ("user-separator", services(0, user="tmsapp root"), "(tms-api).user"),
    ("workdir-newline", services(0, working_directory="/opt/tms/current\n" + INJECTED), "working_directory"),
    ("workdir-traversal", services(0, working_directory="/opt/tms/../../etc"), "working_directory"),
    ("rw-path-newline", services(0, read_write_paths=["/srv/data\n" + INJECTED]), "read_write_paths"),
    # A trailing backslash joins the unit's next line to this one
    ("exec-trailing-backslash", services(0, exec=API_EXEC + " \\"), "(tms-api).exec: ends with a backslash"),
    # strict and standard: nothing as root, however it is asked for
    ("user-root", services(0, user="root"), "(tms-api).user: the strict profile never runs"),
    ("exec-plus", services(0, exec="+" + API_EXEC), "(tms-api).exec: a '+' or '!' prefix"),
    ("override-user-root", services(0, unit_overrides={"User": "root"}), "(tms-api).unit_overrides.User"),
    ("override-pre-plus", services(0, unit_overrides={"ExecStartPre": "+/bin/touch /m"}), "overrides.ExecStartPre"),
    # sudoers: service names become commands of the deploy account's rule
    ("name-sudoers-separator", services(0, name="x.service, /bin/bash #"), "is not a usable unit name"),
    ("name-sudoers-newline", services(0, name="x\ndeploy ALL=(ALL) NOPASSWD: ALL"), "is not a usable unit name"),
    ("name-wildcard", services(0, name="*"), "is not a usable unit name"),
    # Found by the generated values (test_generated_values.py): systemd would have ignored the line.
    ("exec-open-quote", services(0, exec=API_EXEC + " 'it"), "(tms-api).exec: a quote is not closed"),
    # Provision would pass and every host's first clone fail.
    ("git-key-empty-ssh-clone", {"stack_source": SSH_SOURCE, "bootstrap_git_deploy_key": ""}, "key is empty"),
    ("name-traversal", services(0, name="../../../etc/x"), "is not a usable unit name"),
    ("deploy-user-newline", {"bootstrap_deploy_user": "deploy\nALL ALL=(ALL) NOPASSWD: ALL"}, "bootstrap_deploy_user"),
    ("deploy-user-root", {"bootstrap_deploy_user": "root"}, "bootstrap_deploy_user is root"),
    ("deploy-user-app", {"bootstrap_deploy_user": "tmsapp"}, "bootstrap_deploy_user is tmsapp"),
    ("password-crypt-hash", {"bootstrap_deploy_password": "$6$salt$hash"}, "looks like a crypt hash"),
    # nginx
    ("route-block", route("/x/ { alias /etc/; } location /y/"), "routes[0].path"),
    ("route-traversal", route("/x/../"), "routes[0].path"),
    (
        "route-host-crlf",
        {"stack_nginx_routes": [{"path": "/", "service": "tms-frontend", "host": "x\r\nX-Evil: 1"}]},
        "routes[0].host",
    ),
    ("server-name-separator", {"bootstrap_nginx_server_name": "x; location /e/ { alias /etc/; }"}, "server_name"),
    # nginx's own includes would read the upstream files (or their directory) at the top of its http block
    (
        "upstream-dir-in-sites-enabled",
        {"bootstrap_nginx_upstream_dir": "/etc/nginx/sites-enabled/upstreams"},
        "nginx reads /etc/nginx/sites-enabled/upstreams by itself (include /etc/nginx/sites-enabled/*)",
    ),
    # cron and timers
    ("health-config-separator", {"health_check_config": "/etc/steadyops/h.json; touch /x"}, "health_check_config"),
    ("health-log-newline", {"health_check_log_file": "/var/log/h.log\n" + INJECTED}, "health_check_log_file"),
    ("health-state-traversal", {"health_check_state_dir": "/var/lib/../../etc"}, "health_check_state_dir"),
    ("health-interval-cron-cannot-keep", {"health_check_interval_minutes": 90}, "health_check_interval_minutes is 90"),
    # env files
    ("env-key-newline", services(0, env={"LOG_LEVEL\n": "info"}), "LOG_LEVEL"),
    ("env-value-newline", services(0, env={"LOG_LEVEL": "info\nINJECTED=1"}), "LOG_LEVEL"),
    ("env-value-boolean", services(0, env={"DEBUG": True}), "DEBUG"),
    ("env-value-mapping", services(0, env={"LOG": {"level": "info"}}), "LOG"),
    ("env-port-set-by-hand", services(0, env={"PORT": "9000"}), "PORT is set by the unit"),
    ("env-value-beyond-execve", services(0, env={"BIG": "x" * 200000}), "BIG longer than one environment entry"),
    # health mail and URLs
    ("smtp-to-newline", {"health_check_smtp_to": ["ops@tms.test\nBcc: x@elsewhere.test"]}, "health_check_smtp_to"),
    ("smtp-from-separator", {"health_check_smtp_from": "a@tms.test, b@tms.test"}, "health_check_smtp_from"),
    ("smtp-port-range", {"health_check_smtp_port": 99999}, "health_check_smtp_port 99999"),
    ("health-url-crlf", services(0, health={"url": "http://127.0.0.1:8000/\r\nX-Injected: 1"}), "health.url"),
    # the whole model, before anything changes
    ("port-as-text-duplicate", services(1, port="8000"), "(tms-frontend).port"),
    ("port-out-of-range", services(0, port=70000), "(tms-api).port: 70000"),
    ("port-negative", services(0, port=-1), "(tms-api).port: -1"),
    ("port-boolean", services(0, port=True), "(tms-api).port: True"),
    ("stray-patterns-string", services(0, stray_patterns="server.py"), "stray_patterns: must be a list"),
    ("stray-pattern-everything", services(0, stray_patterns=[".*"]), "matches every process"),
    # PostgreSQL names: pg_hba.conf, CREATE ROLE/DATABASE and pg_dump read them
    (
        "pg-role-postgres",
        {"bootstrap_postgresql_user": "postgres"},
        "bootstrap_postgresql_user 'postgres': is PostgreSQL",
    ),
    ("pg-role-hba-keyword", {"bootstrap_postgresql_user": "all"}, "bootstrap_postgresql_user 'all': is a keyword"),
    ("pg-role-reserved-prefix", {"bootstrap_postgresql_user": "pg_monitor"}, "'pg_monitor': starts with pg_"),
    ("pg-db-option", {"stack_database": "--schema-only"}, "bootstrap_postgresql_db '--schema-only': would be read as"),
    ("pg-db-newline", {"bootstrap_postgresql_db": "tms\nhost all all 0.0.0.0/0 trust"}, "holds characters other than"),
    ("pg-db-template", {"bootstrap_postgresql_db": "template1"}, "bootstrap_postgresql_db 'template1': is a template"),
    # converge.yml made tms_admin a superuser by hand: it never becomes the application's role
    ("pg-role-existing-superuser", {"bootstrap_postgresql_user": "tms_admin"}, "tms_admin is a superuser"),
    # The audit's reader: only read, so never the application's role nor a superuser
    (
        "pg-reader-app-role",
        {"bootstrap_postgresql_reader": "tms"},
        "bootstrap_postgresql_reader tms: is a role or account the stack already uses",
    ),
    ("pg-reader-existing-superuser", {"bootstrap_postgresql_reader": "tms_admin"}, "reader tms_admin is a superuser"),
    # paths
    ("app-root-relative", {"stack_app_root": "opt/tms"}, "opt/tms"),
    ("app-root-traversal", {"stack_app_root": "/opt/../etc"}, "/opt/../etc"),
    ("app-root-system", {"stack_app_root": "/"}, "'/': a directory of the system's own"),
    ("env-dir-system", {"env_file_dir": "/etc"}, "env_file_dir '/etc': a directory of the system's own"),
]


def checksum(name):
    """The watched files' checksums on a lab host, read over `docker exec` (the lab hosts are containers).

    A docker exec takes a tenth of a second where an ad-hoc ansible run takes seconds; the cases need
    one per case.
    """
    command = ["docker", "exec", name, "sh", "-c", CHECKSUM]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=120).stdout


def run_case(name, extra_vars):
    with tempfile.NamedTemporaryFile("w", suffix=".json") as varfile:
        json.dump(extra_vars, varfile)
        varfile.flush()
        completed = subprocess.run(
            ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "-l", name, "-e", "@" + varfile.name,
             str(PROJECT / "playbooks/provision.yml")],
            capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
    return completed.returncode, completed.stdout + completed.stderr


def run_share(name, cases):
    results = {}
    before = checksum(name)
    for case_id, extra_vars, _expected in cases:
        code, output = run_case(name, extra_vars)
        after = checksum(name)
        results[case_id] = {"host": name, "rc": code, "output": output, "unchanged": after == before}
        before = after  # each case is compared with the state the one before it left
    return results


@pytest.fixture(scope="module")
def outcomes():
    """Every case's (host, rc, output, unchanged): half the cases on each host, both hosts at once."""
    with ThreadPoolExecutor(len(HOSTS)) as pool:
        every = CASES + PUT_BACK
        shares = pool.map(run_share, HOSTS, [every[i :: len(HOSTS)] for i in range(len(HOSTS))])
    found = {}
    for share in shares:
        found.update(share)
    return found


# Changes each check passes that nginx refuses as a whole: written, checked with nginx -t, put back.
# converge.yml added a hand-made site that uses the frontend's upstream; without the route the stack's
# site no longer defines it.
PUT_BACK = [
    (
        "route-dropped-under-a-hand-made-site",
        {"stack_nginx_routes": [MODEL["stack_nginx_routes"][0]]},
        "nginx refuses its configuration with this run's change",
    ),
]


def refused(outcome, expected):
    """The case failed naming EXPECTED, left the watched files as they were and printed no secret; its output."""
    output = " ".join(outcome["output"].split())
    assert outcome["rc"] != 0, outcome["output"][-3000:]
    assert expected in output, outcome["output"][-3000:]
    assert outcome["unchanged"], "files root or systemd reads changed on %s" % outcome["host"]
    assert SECRET not in outcome["output"]
    return output


@pytest.mark.parametrize(("case_id", "extra_vars", "expected"), CASES, ids=[c[0] for c in CASES])
def test_refused_naming_the_value_with_nothing_changed(outcomes, case_id, extra_vars, expected):
    assert "changed=0" in refused(outcomes[case_id], expected), "a refusal changes nothing"


@pytest.mark.parametrize(("case_id", "extra_vars", "expected"), PUT_BACK, ids=[c[0] for c in PUT_BACK])
def test_a_change_nginx_refuses_as_a_whole_is_put_back(outcomes, case_id, extra_vars, expected):
    # It was written and checked, so the run reports a change; what counts is that nothing stayed.
    output = refused(outcomes[case_id], expected)
    assert "Put back as it was: /etc/nginx/sites-available/steadyops.conf" in output
    host = outcomes[case_id]["host"]
    served = subprocess.run(["docker", "exec", host, "nginx", "-t", "-q"], capture_output=True, check=False)
    assert served.returncode == 0, served.stderr


def test_an_honest_run_changes_nothing_and_passes(outcomes):
    # The control: the same playbook with no hostile value succeeds, so the refusals above are the values'.
    code, output = run_case(HOSTS[0], {})
    assert code == 0, output[-3000:]
    assert SECRET not in output

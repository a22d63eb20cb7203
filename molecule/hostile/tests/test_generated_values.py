"""Generated values, each refused by the roles' own rules or read back exactly by systemd and nginx.

generated_cases.py makes 1,000 distinct values for each string field that
reaches a unit, an env file or the nginx site. Each case is judged by the
rules the roles' preflights assert (the collection's own filters); what they
accept is rendered by Ansible with the roles' own templates
(render_generated.yml), written to a lab host, and read back by the
consumer: systemd's view of each unit (systemctl show, and D-Bus for the
words of Exec lines), the environment systemd gives one process started with
every env file, and nginx -t / -T over every site. A value that is neither
refused nor read back as given fails, named with its field and case.
"""

import importlib
import json
import os
import posixpath
import shlex
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from generated_cases import CASES_PER_FIELD, SEED, generated_cases, write_cases_file

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "/nonexistent"))
sys.path.insert(0, str(PROJECT / ".cache/collections"))

# The roles' own filters, by the names the roles call them with.
FILTERS = {}
for plugin in sorted((PROJECT / "plugins/filter").glob("*.py")):
    module = importlib.import_module("ansible_collections.steadyops.stack.plugins.filter." + plugin.stem)
    FILTERS.update(module.FilterModule().filters())

HOST = os.environ.get("STEADYOPS_LAB_PREFIX", "") + "staging-2"
HERE = Path(__file__).resolve().parent
RENDER = HERE.parent / "render_generated.yml"
HELPER_DIR = "/usr/local/lib/steadyops"
ROLE_TEMPLATES = [PROJECT / "roles/systemd_hardening/templates/service.j2",
                  PROJECT / "roles/env_file/templates/service.env.j2",
                  PROJECT / "roles/bootstrap/templates/nginx_site.conf.j2"]  # fmt: skip
PLACEHOLDERS = [r"<\s*CHANGE[_ -]?ME[^>]*>", "^changeme$", "^change[_-]me$", "^todo$", "^fixme$", "^xxx+$",
                "^replace[_-]?me$"]  # fmt: skip


def problems(case):
    """What the roles' preflights would refuse in CASE (systemd_hardening, env_file, bootstrap's nginx)."""
    services = [case["service"]]
    found = FILTERS["service_model_problems"](services)
    role_vars = case["vars"]
    found += FILTERS["path_problems"]({k: v for k, v in role_vars.items() if k.endswith(("_root", "_dir"))})
    found += FILTERS["account_problems"]({k: v for k, v in role_vars.items() if k.endswith("_user")})
    if "site" in case["render"]:
        found += FILTERS["nginx_route_problems"](case["routes"], services, case["server_name"])
    if not found:
        full = FILTERS["service_defaults"](services)[0]
        found += FILTERS["env_problems"](full, case["secrets"], PLACEHOLDERS)
    return found


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    """{field: (refused cases, accepted cases with what Ansible rendered for them)}."""
    cases = generated_cases()
    accepted = [case for case in cases if not problems(case)]
    work = tmp_path_factory.mktemp("generated")
    write_cases_file(work / "cases.json", accepted)
    for template in [HERE.parent / "templates/generated_files.j2", *ROLE_TEMPLATES]:
        shutil.copy(template, work / template.name)
    rendered = subprocess.run(
        ["ansible-playbook", "-i", "localhost,", str(RENDER), "-e", "generated_cases_file=%s" % (work / "cases.json"),
         "-e", "generated_template=%s" % (work / "generated_files.j2"),
         "-e", "generated_out=%s" % (work / "rendered.json")],
        capture_output=True, text=True, timeout=1200, check=False,
        env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(PROJECT / ".cache/collections")},
    )  # fmt: skip
    assert rendered.returncode == 0, rendered.stdout[-3000:] + rendered.stderr[-3000:]
    files = {entry["id"]: entry["rendered"] for entry in json.loads((work / "rendered.json").read_text())}
    for case in accepted:
        case["files"] = {name: text for name, text in files[case["id"]].items() if name in case["render"]}
    by_field = {}
    for case in cases:
        refused, kept = by_field.setdefault(case["field"], ([], []))
        (kept if "files" in case else refused).append(case)
    return work, by_field


@pytest.fixture(scope="module")
def read_back(judged):
    """What systemd and nginx on the lab host read from every accepted case's files."""
    work, by_field = judged
    tree = work / "tree"
    for folder in ("units", "env", "nginx"):
        (tree / folder).mkdir(parents=True)
    exec_names = []
    for _refused, kept in by_field.values():
        for case in kept:
            unit = case["service"]["name"] + ".service"
            if "unit" in case["files"]:
                (tree / "units" / unit).write_text(case["files"]["unit"])
                if case["field"] in ("exec", "stray_patterns"):
                    exec_names.append(unit)
            if "env" in case["files"]:
                (tree / "env" / ("%05d.env" % case["id"])).write_text(case["files"]["env"])
            if "site" in case["files"]:
                (tree / "nginx" / ("%05d.conf" % case["id"])).write_text(case["files"]["site"])
    with tarfile.open(work / "tree.tar", "w") as archive:
        archive.add(tree, arcname="sogen")
        archive.add(HERE / "readback_host.py", arcname="sogen/readback_host.py")
    subprocess.run(["docker", "cp", str(work / "tree.tar"), "%s:/root/sogen.tar" % HOST], check=True)
    script = "cd /root && tar -xf sogen.tar && python3 sogen/readback_host.py /root/sogen %s" % shlex.quote(
        json.dumps(exec_names)
    )
    try:
        completed = subprocess.run(["docker", "exec", HOST, "sh", "-c", script],
                                   capture_output=True, text=True, timeout=900, check=False)  # fmt: skip
        assert completed.returncode == 0, completed.stderr[-3000:]
        yield json.loads(completed.stdout)
    finally:
        cleanup = ("cd /root/sogen/units && for unit in *; do rm -f \"/etc/systemd/system/$unit\"; done; "
                   "rm -rf /root/sogen /root/sogen.tar /etc/systemd/system/sogen-environ-reader.service "
                   "/run/sogen-environ /run/sogen-nginx.conf; systemctl daemon-reload")  # fmt: skip
        subprocess.run(["docker", "exec", HOST, "sh", "-c", cleanup], check=False, timeout=300)


def test_every_field_has_a_thousand_values_refused_or_accepted(judged):
    _work, by_field = judged
    counts = {field: (len(refused), len(kept)) for field, (refused, kept) in by_field.items()}
    print("seed %d; per field (refused, accepted): %s" % (SEED, counts))
    assert all(sum(pair) == CASES_PER_FIELD for pair in counts.values()), counts
    # A field whose values were all refused, or all accepted, would test one side only.
    assert all(refused and kept for refused, kept in counts.values()), counts


def test_every_refusal_names_the_field_or_its_value(judged):
    _work, by_field = judged
    silent = [(case["field"], case["value"]) for refused, _kept in by_field.values() for case in refused
              if not any(case["value"] in problem or _field_word(case["field"]) in problem
                         for problem in problems(case))]  # fmt: skip
    assert silent == []


def _field_word(field):
    """The word a refusal uses for FIELD ('env value' is named by its key, a route by 'path')."""
    return {"env key": "key", "env value": "GEN_VALUE", "env secret value": "GEN_SECRET",
            "nginx route path": "path", "bootstrap_nginx_server_name": "server_name",
            "unit_overrides.SyslogIdentifier": "unit_overrides"}.get(field, field)  # fmt: skip


def expected_unit(case):
    """The properties systemd must show for CASE's unit, from the model's own defaults."""
    service = FILTERS["service_defaults"]([case["service"]])[0]
    role_vars = {"systemd_hardening_user": "tmsapp", "systemd_hardening_app_root": "/opt/tms",
                 "systemd_hardening_env_dir": "/opt/tms/shared", **case["vars"]}  # fmt: skip
    user = service.get("user") or role_vars["systemd_hardening_user"]
    # systemd shows a path in its normal form (no "//", no trailing "/"): the same directory.
    role_vars = {name: posixpath.normpath(value) if name.endswith(("_root", "_dir")) else value
                 for name, value in role_vars.items()}  # fmt: skip
    service["working_directory"] = service.get("working_directory") and posixpath.normpath(service["working_directory"])
    service["read_write_paths"] = [posixpath.normpath(path) for path in service["read_write_paths"]]
    env_dir = role_vars["systemd_hardening_env_dir"]
    return {
        "Id": service["name"] + ".service",
        "LoadState": "loaded",
        "Description": service.get("description") or service["name"] + " (managed by steadyops.stack)",
        "User": user,
        "Group": service.get("group") or user,
        "WorkingDirectory": service.get("working_directory") or role_vars["systemd_hardening_app_root"] + "/current",
        "EnvironmentFiles": "%s/%s.env (ignore_errors=yes)" % (role_vars["systemd_hardening_env_dir"], service["name"]),
        "SyslogIdentifier": service["unit_overrides"]["SyslogIdentifier"],
        "ReadWritePaths": " ".join("-" + path for path in [env_dir, *service["read_write_paths"]]),
    }  # fmt: skip


def unit_cases(by_field):
    return [case for _refused, kept in by_field.values() for case in kept if "unit" in case["files"]]


def test_every_accepted_unit_reads_back_as_given(judged, read_back):
    _work, by_field = judged
    wrong = []
    for case in unit_cases(by_field):
        want = expected_unit(case)
        shown = read_back["units"].get(want["Id"], {})
        differs = {key: (value, shown.get(key)) for key, value in want.items() if shown.get(key) != value}
        if differs:
            wrong.append((case["field"], case["value"], differs))
    assert wrong == [], wrong[:5]


def test_every_accepted_after_is_ordered_after(judged, read_back):
    _work, by_field = judged
    wrong = []
    for case in by_field["after"][1]:
        service = case["service"]
        wanted = FILTERS["after_units"](service["after"], [service])
        shown = read_back["units"][service["name"] + ".service"]["After"].split()
        if not set(wanted) <= set(shown):
            wrong.append((case["value"], wanted, shown))
    assert wrong == [], wrong[:5]


def at_exec(word):
    """A word of an Exec line as the program gets it: systemd turns "$$" into "$" when it runs the line."""
    return word.replace("$$", "$")


def test_every_accepted_command_line_keeps_its_words_and_percent_signs(judged, read_back):
    """systemd reads one command of as many words as the model's rule counts, each % kept as written."""
    from ansible_collections.steadyops.stack.plugins.module_utils._service_model import _exec_words  # noqa: PLC0415

    _work, by_field = judged
    wrong = []
    for case in by_field["exec"][1]:
        argv = read_back["units"][case["service"]["name"] + ".service"]["ExecStartArgv"]
        words = argv[0] if len(argv) == 1 else None
        if (
            words is None
            or len(words) != len(_exec_words(case["value"]))
            or "".join(words).count("%") != case["value"].count("%")
            or words[0] != case["value"].split()[0]
        ):
            wrong.append((case["value"], argv))
    assert wrong == [], wrong[:5]


def test_every_accepted_stray_pattern_reaches_the_port_freer_as_one_word(judged, read_back):
    _work, by_field = judged
    wrong = []
    for case in by_field["stray_patterns"][1]:
        service = case["service"]
        unit = service["name"] + ".service"
        want = [["/usr/bin/python3", HELPER_DIR + "/free_port.py", "--unit", unit, "--port", str(service["port"]),
                 "--grace", "10", "--pattern", case["value"], "--user", "tmsapp"]]  # fmt: skip
        got = [[at_exec(word) for word in argv] for argv in read_back["units"][unit]["ExecStartPreArgv"]]
        if got != want:
            wrong.append((case["value"], got))
    assert wrong == [], wrong[:5]


def test_every_accepted_env_value_and_key_reaches_the_process(judged, read_back):
    _work, by_field = judged
    environ = read_back["environ"]
    assert "error" not in environ, environ.get("error")
    want = {}
    for field in ("env key", "env value", "env secret value"):
        for case in by_field[field][1]:
            want.update(case["service"]["env"] if field != "env secret value" else case["secrets"])
    wrong = {key: (value, environ.get(key)) for key, value in want.items() if environ.get(key) != value}
    assert wrong == {}, list(wrong.items())[:5]


def nginx_tokens(dump):
    """nginx's words of a -T dump, as its parser splits them: quotes, escapes, comments, ; { }."""
    tokens, word, quote, chars = [], None, None, iter(dump)
    for char in chars:
        if quote:
            if char == "\\":
                word += next(chars)
            elif char == quote:
                tokens.append(word)
                word, quote = None, None
            else:
                word += char
        elif char in "\"'" and word is None:
            word, quote = "", char
        elif char == "#" and word is None:
            for skipped in chars:
                if skipped == "\n":
                    break
        elif char.isspace() or char in ";{}":
            if word is not None:
                tokens.append(word)
                word = None
            if char in ";{}":
                tokens.append(char)
        else:
            word = (word or "") + char
    return tokens


def test_nginx_reads_every_accepted_site(judged, read_back):
    _work, by_field = judged
    assert read_back["nginx"]["rc"] == 0, read_back["nginx"]["test"][-2000:]
    tokens = nginx_tokens(read_back["nginx"]["dump"])
    locations = {tokens[i + 1] for i, part in enumerate(tokens) if part == "location"}
    names = set()
    for i, part in enumerate(tokens):
        if part == "server_name":
            end = tokens.index(";", i)
            names.update(tokens[i + 1 : end])
    missing = [case["value"] for case in by_field["nginx route path"][1] if case["value"] not in locations]
    missing += [case["value"] for case in by_field["bootstrap_nginx_server_name"][1]
                if not set(case["value"].split()) <= names]  # fmt: skip
    assert missing == []

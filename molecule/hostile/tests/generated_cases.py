"""Generated values for every string field that reaches a unit, an env file or nginx.

Each case is one service (plus the role variables and nginx routes it is
rendered with) in which exactly one field holds a generated value; the
others hold plain values that are known to pass, so whether the case is
refused or arrives exactly is about that field alone. Values mix plain
characters with those each consumer reads specially: systemd (%, \\, quotes,
;, $, a trailing backslash, newlines), env files (#, =, quotes, spaces),
nginx ({, }, ;, quotes, spaces), paths (.., //, a relative start) and
characters outside ASCII.
"""

import copy
import json
import random

SEED = 20261207
CASES_PER_FIELD = 1000

PLAIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."
ACCOUNT = "abcdefghijklmnopqrstuvwxyz0123456789_-"
TROUBLE = ["%", "%%", "%H", "\\", "\\n", '"', "'", ";", "$", "${X}", "`", "#", "=", " ", "  ", "\t", "\n", "\r",
           "{", "}", "[", "]", "*", "?", "~", "<", ">", "|", "&", "!", "+", ":", "@", "/", "..", "//",
           "é", "東京", "\u00a0", "\\;", "\\x41", "$$"]  # fmt: skip
BASE_PORT = 20000


def _text(rng, start="", alphabet=PLAIN, longest=40):
    """START then a mix of ALPHABET and troublesome pieces, in a share drawn per value.

    A quarter of the values hold no troublesome piece at all, so that every
    field has accepted values to read back as well as refused ones.
    """
    plain_share = rng.choice([1.0, 0.97, 0.9, 0.7])
    pieces = [start]
    for _piece in range(rng.randint(0, longest)):
        pieces.append(rng.choice(alphabet) if rng.random() < plain_share else rng.choice(TROUBLE))
    return "".join(pieces)


def _path(rng):
    start = rng.choice(["/", "/", "/", "/opt/", "/srv/app/", "", "./", "/opt/tms/../"])
    return _text(rng, start, longest=30)


def _word(rng):
    """A unit name or an env key."""
    return _text(rng, rng.choice(PLAIN[:52]), longest=20)


def _account(rng):
    return _text(rng, rng.choice(ACCOUNT[:26]), alphabet=ACCOUNT, longest=20)


def _unit(rng):
    """A unit outside the stack, named with its suffix (or, sometimes, without)."""
    return _word(rng) + rng.choice([".service", ".timer", ".target", ".socket", ".mount", ""])


def _exec(rng):
    return _text(rng, rng.choice(["/usr/bin/printf ", "/usr/bin/env X=1 /usr/bin/true ", "/bin/echo ", "printf "]))


# field -> (how a value is made, where it goes in a case, the files it reaches)
UNIT, ENV, SITE = "unit", "env", "site"
FIELDS = {
    "name": (_word, ("service", "name"), [UNIT, ENV, SITE]),
    "description": (_text, ("service", "description"), [UNIT]),
    "exec": (_exec, ("service", "exec"), [UNIT]),
    "user": (_account, ("service", "user"), [UNIT]),
    "group": (_account, ("service", "group"), [UNIT]),
    "working_directory": (_path, ("service", "working_directory"), [UNIT]),
    "read_write_paths": (_path, ("service", "read_write_paths", 0), [UNIT]),
    "after": (_unit, ("service", "after", 0), [UNIT]),
    "stray_patterns": (_text, ("service", "stray_patterns", 0), [UNIT]),
    "unit_overrides.SyslogIdentifier": (_text, ("service", "unit_overrides", "SyslogIdentifier"), [UNIT]),
    "env key": (_word, ("service", "env", None), [ENV]),
    "env value": (_text, ("service", "env", "GEN_VALUE_%(id)05d"), [ENV]),
    "env secret value": (_text, ("secrets", "GEN_SECRET_%(id)05d"), [ENV]),
    "systemd_hardening_app_root": (_path, ("vars", "systemd_hardening_app_root"), [UNIT]),
    "systemd_hardening_env_dir": (_path, ("vars", "systemd_hardening_env_dir"), [UNIT]),
    "systemd_hardening_user": (_account, ("vars", "systemd_hardening_user"), [UNIT]),
    "nginx route path": (_path, ("routes", 0, "path"), [SITE]),
    "bootstrap_nginx_server_name": (_word, ("server_name",), [SITE]),
}


def _base(case_id):
    return {
        "id": case_id,
        "service": {
            "name": "sogen-%05d" % case_id,
            "description": "generated case %d" % case_id,
            "exec": "/usr/bin/sleep 3600",
            "port": BASE_PORT + case_id % 10000,
            "hardening": "standard",
            "stray_patterns": ["sogen-stray"],
            "working_directory": "/opt/tms",
            "read_write_paths": ["/opt/tms/data"],
            "after": ["postgresql.service"],
            "user": "tmsapp",
            "group": "tmsapp",
            "unit_overrides": {"SyslogIdentifier": "sogen"},
            "env": {"GEN_PLAIN": "plain"},
            "env_secrets": ["GEN_SECRET_%05d" % case_id],
        },
        "secrets": {"GEN_SECRET_%05d" % case_id: "secret"},
        # The roles' defaults (the playbook's stack_app_user and stack_app_root).
        "vars": {
            "systemd_hardening_user": "tmsapp",
            "systemd_hardening_app_root": "/opt/tms",
            "systemd_hardening_env_dir": "/opt/tms/shared",
        },
        "routes": [{"path": "/sogen/", "service": "sogen-%05d" % case_id}],
        "server_name": "sogen.test",
    }


def _put(case, where, value):
    *parents, last = where
    if isinstance(last, str):  # a key named for the case: one process can read every case's value
        last = last % case
    target = case
    for key in parents:
        target = target[key]
    if last is None:  # a generated key
        target[value] = "plain"
    else:
        target[last] = value
    if where[:2] == ("service", "name"):
        case["routes"][0]["service"] = value


def generated_cases(seed=SEED, per_field=CASES_PER_FIELD):
    """[(field, case)]: PER_FIELD distinct generated values for each field, in a fixed order for SEED."""
    rng = random.Random(seed)  # noqa: S311 - reproducible cases, not secrets
    cases = []
    for field, (make, where, files) in FIELDS.items():
        seen = set()
        while len(seen) < per_field:
            value = make(rng)
            # Distinct without regard to case too: nginx reads upstream names so, and
            # every accepted case of a field is read back by one nginx.
            if value.lower() in seen:
                continue
            seen.add(value.lower())
            case = copy.deepcopy(_base(len(cases)))
            case["field"] = field
            case["value"] = value
            case["render"] = files
            _put(case, where, value)
            cases.append(case)
    return cases


def write_cases_file(path, cases):
    """The cases as JSON for render_generated.yml, which reads them through a lookup.

    Not a vars file: Ansible (before 2.19) would template a variable's value, and
    "{{" is one of the generated pieces; a lookup's result is never templated again.
    """
    path.write_text(json.dumps(cases, ensure_ascii=False))

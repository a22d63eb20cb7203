# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What makes an env file wrong, found before it is written; messages name keys, never values.

Pure functions, used by the env_file role through the collection's filters.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re

KEY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
EXAMPLE_LINE = re.compile(r"^\s*(?:export\s+)?([^=#\s]+)\s*=")
# execve(2) takes each "KEY=value" string up to MAX_ARG_STRLEN (32 pages: 131072 bytes with its NUL) and a
# process's arguments and environment together up to ARG_MAX (a quarter of the stack limit, 2 MiB by
# default); beyond either the service's start fails with E2BIG and systemd restarts it in a loop.
MAX_ENV_ENTRY = 131072 - 1
# Half of the default ARG_MAX: the rest is for the command line and the variables systemd sets itself.
MAX_ENV_TOTAL = 1024 * 1024


def example_keys(text):
    """Keys an .env.example-style text declares (KEY=anything, comments and blanks ignored)."""
    keys = []
    for line in (text or "").splitlines():
        match = EXAMPLE_LINE.match(line)
        if match:
            keys.append(match.group(1))
    return keys


def problems(service, secrets, placeholder_patterns, example_text=""):
    """Every reason the service's env file must not be written, as sentences naming keys only."""
    name = service["name"]
    plain = service.get("env") or {}
    secret_keys = list(service.get("env_secrets") or [])
    found = []

    invalid = sorted(repr(k) for k in list(plain) + secret_keys if not KEY_NAME.fullmatch(str(k)))
    if invalid:
        found.append(
            "%s: invalid key name(s) %s: a key is letters, digits and _, not starting with a digit"
            % (name, ", ".join(invalid))
        )
    twice = sorted({k for k in secret_keys if k in plain} | {k for k in secret_keys if secret_keys.count(k) > 1})
    if twice:
        found.append(
            "%s: key(s) %s given more than once (env and env_secrets, or twice in env_secrets)"
            % (name, ", ".join(twice))
        )
    example = example_keys(example_text)
    dup_example = sorted({k for k in example if example.count(k) > 1})
    if dup_example:
        found.append("%s: the example file declares %s more than once" % (name, ", ".join(dup_example)))

    missing_secrets = sorted(k for k in secret_keys if k not in secrets)
    if missing_secrets:
        found.append("%s: secret(s) %s missing from env_file_secrets (the vault)" % (name, ", ".join(missing_secrets)))
    values = dict((k, plain[k]) for k in plain)
    values.update((k, secrets[k]) for k in secret_keys if k in secrets)

    # A YAML true arrives as Python True and would be written "True"; a mapping as its repr.
    untyped = sorted(k for k, v in values.items() if isinstance(v, (bool, dict, list)))
    if untyped:
        found.append(
            "%s: key(s) %s are a boolean, a list or a mapping, not text; quote the value in YAML "
            "(FOO: 'true') so that it arrives as written" % (name, ", ".join(untyped))
        )
    control = sorted(k for k, v in values.items() if isinstance(v, str) and CONTROL.search(v))
    if control:
        found.append(
            "%s: key(s) %s hold a newline or another control character, which one env file line cannot carry"
            % (name, ", ".join(control))
        )
    empty = sorted(k for k, v in values.items() if v is None or str(v).strip() == "")
    required = list(service.get("env_required") or []) + example
    absent = sorted({k for k in required if k not in values})
    if absent:
        found.append("%s: required key(s) %s missing" % (name, ", ".join(absent)))
    if empty:
        found.append("%s: key(s) %s empty" % (name, ", ".join(empty)))

    found.extend(_size_problems(name, values))
    compiled = [re.compile(p, re.IGNORECASE) for p in placeholder_patterns]
    placeholders = sorted(
        k for k, v in values.items() if v is not None and any(p.search(str(v).strip()) for p in compiled)
    )
    if placeholders:
        found.append(
            "%s: key(s) %s still hold a placeholder value; set real values (secrets in the vault)"
            % (name, ", ".join(placeholders))
        )
    return found


def _entry_bytes(key, value):
    return len(("%s=%s" % (key, "" if value is None else value)).encode("utf-8"))


def _size_problems(name, values):
    """What execve could not pass to the service: one entry too long, or the whole environment too big."""
    found = []
    too_long = sorted(str(k) for k, v in values.items() if _entry_bytes(k, v) > MAX_ENV_ENTRY)
    if too_long:
        found.append(
            "%s: key(s) %s longer than one environment entry can be (KEY=value, at most %d bytes); the service "
            "would fail to start (E2BIG): keep large data in a file the service reads"
            % (name, ", ".join(too_long), MAX_ENV_ENTRY)
        )
    total = sum(_entry_bytes(k, v) + 1 for k, v in values.items())
    if total > MAX_ENV_TOTAL:
        found.append(
            "%s: the env file's entries total %d bytes, more than %d, half of what execve takes for a command "
            "and its environment; the service could fail to start (E2BIG)" % (name, total, MAX_ENV_TOTAL)
        )
    return found


def quote(value):
    """A value as systemd's EnvironmentFile= and shells read it: double-quoted, escaped."""
    text = "" if value is None else str(value)
    for char in ("\\", '"', "$", "`"):
        text = text.replace(char, "\\" + char)
    return '"%s"' % text.replace("\n", "\\n")


def fingerprints(env_text):
    """KEY -> sha256 of the raw value line, to tell which keys changed without keeping values."""
    prints = {}
    for line in (env_text or "").splitlines():
        if line.startswith("#") or "=" not in line:
            continue
        key, _sep, raw = line.partition("=")
        prints[key.strip()] = hashlib.sha256(raw.encode("utf-8")).hexdigest()
    return prints


def changed_keys(old_text, new_text):
    """Keys added, removed and changed between two env file texts; names only."""
    old, new = fingerprints(old_text), fingerprints(new_text)
    return {
        "added": sorted(k for k in new if k not in old),
        "removed": sorted(k for k in old if k not in new),
        "modified": sorted(k for k in new if k in old and new[k] != old[k]),
    }

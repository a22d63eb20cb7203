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

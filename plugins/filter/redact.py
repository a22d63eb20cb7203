# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Secrets out of anything the collection prints from a host (journals, a migration's output)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import shlex
from urllib.parse import quote, quote_plus, unquote, urlsplit

MASK = "********"
# Shorter values would mask ordinary words and numbers all over a journal.
MIN_LENGTH = 4

DOCUMENTATION = r"""
name: redact
short_description: Replace every known secret value in text with ********, in every form programs print it
version_added: 0.1.0
description:
  - Given text (or a list of lines) and the secrets the play knows (a mapping of name to value, or a list of
    values), returns the text with each secret value replaced.
  - Programs seldom print a secret as it is. Each value is also masked as JSON writes it inside a string
    (C(\\uXXXX) escapes in either case, C(\\"), C(\\\\), C(\\/), raw non-ASCII), as Python's C(repr) writes it,
    shell-quoted (single quotes, double quotes, C(printf %q)), URL-encoded (C(%XX) in either case, C(+) for
    spaces), and line by line when it spans several lines, since a journal keeps each line as an entry.
  - For a URL with a password (C(DATABASE_URL)) the password alone is masked too, in all those forms,
    raw and URL-decoded.
  - Values (and lines of values) shorter than 4 characters are not replaced; they would mask ordinary text.
options:
  _input:
    description: Text, or a list of lines.
    type: raw
    required: true
  secrets:
    description: Secret values, as a mapping (its values are used) or a list.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Fail with the journal, secrets masked
  ansible.builtin.fail:
    msg: "{{ journal.stdout | steadyops.stack.redact(env_file_secrets) }}"
"""

RETURN = r"""
_value:
  description: The text with every form of every secret value replaced by C(********).
  type: raw
"""

# What bash's printf %q backslash-escapes in a word with no control character
# (one with a control character it writes as $'...', see _ansi_c).
_PRINTF_Q_SPECIAL = frozenset(" '\"\\|&;()<>!{}*[?]^$`,")
_ANSI_C_NAMED = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\x1b": "\\E",
    "'": "\\'",
    "\\": "\\\\",
}
_JSON_U_ESCAPE = re.compile(r"\\u([0-9a-f]{4})")
_PERCENT_ESCAPE = re.compile(r"%[0-9A-F]{2}")


def _json_forms(text):
    """The value inside a JSON string, as the common encoders write it."""
    ascii_form = json.dumps(text)[1:-1]
    forms = {
        ascii_form,
        _JSON_U_ESCAPE.sub(lambda m: "\\u" + m.group(1).upper(), ascii_form),
        json.dumps(text, ensure_ascii=False)[1:-1],
    }
    # Go and some web frameworks escape <, > and & too; PHP and others escape the slash.
    html_safe = {f.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") for f in forms}
    forms |= html_safe
    forms |= {f.replace("/", "\\/") for f in forms}
    return forms


def _shell_forms(text):
    """The value as a shell command line or a script would print it quoted."""
    return {
        shlex.quote(text),
        text.replace("'", "'\"'\"'"),
        text.replace("'", "'\\''"),
        re.sub(r'(["\\$`])', r"\\\1", text),
        _printf_q(text),
        _ansi_c(text, utf8=True),
        _ansi_c(text, utf8=False),
    }


def _printf_q(text):
    """bash's printf %q of a word without control characters: a backslash before each special one."""
    out = []
    for index, char in enumerate(text):
        leading = index == 0 or (char == "~" and text[index - 1] in "=:")
        special = char in _PRINTF_Q_SPECIAL or (leading and char in "~#")
        out.append("\\" + char if special else char)
    return "".join(out)


def _ansi_c(text, utf8):
    """bash's $'...' form: C escapes; octal bytes for other control characters and for non-ASCII ones
    outside a UTF-8 locale, or in one when the locale does not print them (U+2028)."""
    out = []
    for char in text:
        if char in _ANSI_C_NAMED:
            out.append(_ANSI_C_NAMED[char])
        elif ord(char) < 32 or ord(char) == 127:
            out.append("\\%03o" % ord(char))
        elif ord(char) > 127 and not (utf8 and char.isprintable()):
            out.extend("\\%03o" % byte for byte in char.encode("utf-8", "surrogatepass"))
        else:
            out.append(char)
    return "$'%s'" % "".join(out)


def _url_forms(text):
    """The value URL-encoded: path or form encoding, upper- or lower-case escapes."""
    forms = {quote(text, safe=""), quote(text), quote_plus(text), quote_plus(text, safe="/")}
    return forms | {_PERCENT_ESCAPE.sub(lambda m: m.group(0).lower(), f) for f in forms}


def forms_of(text):
    """Every form of one secret string a log line may hold."""
    forms = {text, repr(text)[1:-1], ascii(text)[1:-1]}
    forms |= _json_forms(text) | _shell_forms(text) | _url_forms(text)
    return forms


def secret_values(secrets):
    """Each secret as the set of strings to mask: its forms, its lines' forms, a URL password's forms."""
    values = list(secrets.values()) if isinstance(secrets, dict) else list(secrets or [])
    plain = set()
    for value in values:
        if value is None or isinstance(value, (dict, list)):
            continue
        text = str(value)
        plain.add(text)
        # A journal keeps each line a program prints (up to a newline) as an entry of its own.
        plain.update(line.rstrip("\r") for line in text.split("\n"))
        if "://" in text:
            try:
                password = urlsplit(text).password
            except ValueError:
                password = None
            if password:
                plain.update([password, unquote(password)])
    masked = set()
    for text in plain:
        if len(text) >= MIN_LENGTH:
            masked |= forms_of(text)
    return sorted((v for v in masked if len(v) >= MIN_LENGTH), key=len, reverse=True)


def redact(text, secrets):
    """text (or a list of lines) with every secret form replaced; longest first, so no fragment is left."""
    if isinstance(text, list):
        values = secret_values(secrets)
        return [_mask(line, values) for line in text]
    return _mask(text, secret_values(secrets))


def _mask(text, values):
    text = "" if text is None else str(text)
    for value in values:
        text = text.replace(value, MASK)
    return text


class FilterModule(object):
    def filters(self):
        return {"redact": redact}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Secrets out of anything the collection prints from a host (journals, a migration's output)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from urllib.parse import unquote, urlsplit

MASK = "********"
# Shorter values would mask ordinary words and numbers all over a journal.
MIN_LENGTH = 4

DOCUMENTATION = r"""
name: redact
short_description: Replace every known secret value in text with ********
version_added: 0.1.0
description:
  - Given text (or a list of lines) and the secrets the play knows (a mapping of name to value, or a list of
    values), returns the text with each secret value replaced. For a URL with a password (C(DATABASE_URL)) the
    password alone is replaced too, in both its raw and its URL-encoded form, since programs print either.
  - Values shorter than 4 characters are not replaced; they would mask ordinary text.
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
  description: The text with every secret value replaced by C(********).
  type: raw
"""


def secret_values(secrets):
    """Each secret as a set of strings to mask: the value, and a URL's password in both its forms."""
    values = list(secrets.values()) if isinstance(secrets, dict) else list(secrets or [])
    masked = set()
    for value in values:
        if value is None or isinstance(value, (dict, list)):
            continue
        text = str(value)
        masked.add(text)
        if "://" in text:
            try:
                password = urlsplit(text).password
            except ValueError:
                password = None
            if password:
                masked.update([password, unquote(password)])
    return sorted((v for v in masked if len(v) >= MIN_LENGTH), key=len, reverse=True)


def redact(text, secrets):
    """text (or a list of lines) with every secret value replaced; longest first, so no fragment is left."""
    values = secret_values(secrets)
    if isinstance(text, list):
        return [redact(line, secrets) for line in text]
    text = "" if text is None else str(text)
    for value in values:
        text = text.replace(value, MASK)
    return text


class FilterModule(object):
    def filters(self):
        return {"redact": redact}

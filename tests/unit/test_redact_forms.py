"""Every form a program prints a secret in is masked.

Generated secrets (quotes, backslashes, slashes, shell and URL specials,
non-ASCII, astral characters, several lines) are written by the real encoders
programs use (Python's json, repr, shlex and urllib; bash's own printf %q and
quoting), the line is redacted, and what is left is read back through the
matching decoder (json.loads, ast.literal_eval, urllib's unquote, bash's eval).
Neither the secret nor any of its lines may come back.
"""

import ast
import json
import os
import random
import shlex
import subprocess
from urllib.parse import parse_qs, quote, quote_plus, unquote

import pytest
from ansible_collections.steadyops.stack.plugins.filter.redact import MASK, MIN_LENGTH, redact

SEED = 20261207
CASES = 1000
# Each line of a secret carries one of these, so no line is a piece of the log's own text.
CORE = "QXZ0189"
ALPHABET = "abcdefQXZ0189" + " '\"\\/$`%+&<>=:,#~!{}*?^|;()[]@.-_" + "üé中😀\u2028\t"
PREFIX = "log: "


def generated_secrets():
    rng = random.Random(SEED)  # noqa: S311 - reproducible secrets for a test, not real ones
    found = []
    for _case in range(CASES):
        lines = []
        for _line in range(rng.choice([1, 1, 1, 2, 3])):
            body = "".join(rng.choice(ALPHABET) for _char in range(rng.randint(MIN_LENGTH, 20)))
            lines.append(rng.choice(CORE) + body)
        found.append("\n".join(lines))
    return found


SECRETS = generated_secrets()


def leaks(secret, decoded):
    """The secret, or a line of it long enough to be masked, still readable in the decoded text."""
    return [part for part in [secret, *secret.split("\n")] if len(part) >= MIN_LENGTH and part in decoded]


def bash(script, words, locale="C.UTF-8"):
    """Run SCRIPT in a real bash with WORDS as its arguments; NUL-separated output."""
    done = subprocess.run(
        ["bash", "-c", script, "bash", *words],
        capture_output=True,
        check=True,
        env={**os.environ, "LC_ALL": locale},
    )
    return done.stdout.decode("utf-8", "surrogateescape").split("\0")[:-1]


def printf_q(secrets, locale):
    return bash('for word; do printf "%q\\0" "$word"; done', secrets, locale)


def bash_eval(words):
    """What bash reads each word as; a word it cannot parse any more stays as written."""
    return bash('for word; do eval "value=$word" 2>/dev/null || value=$word; printf "%s\\0" "$value"; done', words)


def read_back(decode, text):
    """What the decoder reads; masking may take a form's own quotes, and then the text stays as it is."""
    try:
        return decode(text)
    except (ValueError, SyntaxError, KeyError):
        return text


# (name, encode, decode) for forms read back in Python.
PYTHON_FORMS = [
    ("json", lambda s: json.dumps({"key": s}), lambda t: json.loads(t)["key"]),
    ("json-utf8", lambda s: json.dumps({"key": s}, ensure_ascii=False), lambda t: json.loads(t)["key"]),
    ("json-slash", lambda s: json.dumps({"key": s}).replace("/", "\\/"), lambda t: json.loads(t)["key"]),
    ("repr", repr, ast.literal_eval),
    ("ascii", ascii, ast.literal_eval),
    ("url", lambda s: "token=" + quote(s, safe=""), lambda t: unquote(t[len("token=") :])),
    ("url-form", lambda s: "token=" + quote_plus(s), lambda t: "".join(parse_qs(t).get("token", [t]))),
    ("url-path", lambda s: "/reset/" + quote(s), unquote),
]


@pytest.mark.parametrize(("name", "encode", "decode"), PYTHON_FORMS, ids=[form[0] for form in PYTHON_FORMS])
def test_forms_read_back_in_python_hold_no_secret(name, encode, decode):
    failures = []
    for secret in SECRETS:
        line = PREFIX + encode(secret)
        redacted = redact(line, {"KEY": secret})
        assert redacted.startswith(PREFIX), (name, line)
        decoded = read_back(decode, redacted[len(PREFIX) :])
        if MASK not in redacted or leaks(secret, decoded):
            failures.append((secret, line, redacted))
    assert not failures, "%d of %d %s lines leak, e.g. %r" % (len(failures), CASES, name, failures[:3])


def shell_encodings():
    """Each secret as shell code: shlex.quote, bash's printf %q in a UTF-8 and the C locale, double quotes."""
    double_quoted = ['"%s"' % "".join("\\" + c if c in '"\\$`' else c for c in s) for s in SECRETS]
    return {
        "shlex.quote": [shlex.quote(s) for s in SECRETS],
        "printf %q (C.UTF-8)": printf_q(SECRETS, "C.UTF-8"),
        "printf %q (C)": printf_q(SECRETS, "C"),
        "double quotes": double_quoted,
    }


def test_the_shell_encodings_are_real_ones():
    """The encoders themselves: bash reads every unredacted word back as the secret."""
    for name, words in shell_encodings().items():
        assert bash_eval(words) == SECRETS, name


def test_shell_quoted_forms_read_back_by_bash_hold_no_secret():
    for name, words in shell_encodings().items():
        redacted = [redact(word, [secret]) for word, secret in zip(words, SECRETS, strict=True)]
        decoded = bash_eval(redacted)
        failures = [
            (secret, word, after)
            for secret, word, after, value in zip(SECRETS, words, redacted, decoded, strict=True)
            if MASK not in after or leaks(secret, value)
        ]
        assert not failures, "%d of %d %s words leak, e.g. %r" % (len(failures), CASES, name, failures[:3])


def test_a_secret_printed_line_by_line_loses_every_line():
    """A journal keeps each printed line as an entry of its own, with a prefix."""
    failures = []
    for secret in SECRETS:
        journal = "\n".join("Dec 07 app[42]: " + line for line in secret.split("\n"))
        redacted = redact(journal, [secret])
        if leaks(secret, redacted) or redacted.count(MASK) != secret.count("\n") + 1:
            failures.append((secret, redacted))
    assert not failures, "%d of %d leak, e.g. %r" % (len(failures), CASES, failures[:3])


def test_the_generator_covers_what_it_claims():
    """Each troublesome kind of character is in hundreds of the secrets, and a fair share span lines."""
    for kind in ['"', "\\", "'", "/", "%", "ü", "😀", "\n", "$"]:
        assert sum(kind in s for s in SECRETS) > CASES // 10, kind

"""Env file rules: every problem names keys, never values."""

import pytest
from ansible_collections.steadyops.stack.plugins.module_utils import _env_rules, _service_model

PLACEHOLDERS = [r"<\s*CHANGE[_ -]?ME[^>]*>", "^changeme$", "^todo$"]
SECRET = "s3cr3t-value-1234"  # noqa: S105 - a canary the messages must not contain


@pytest.mark.parametrize(
    ("service", "secrets", "expected"),
    [
        ({"name": "a", "env": {"X": "1"}}, {}, []),
        ({"name": "a", "env": {"X": "<CHANGE_ME>"}}, {}, ["a: key(s) X still hold a placeholder value"]),
        ({"name": "a", "env": {"X": "< change me please >"}}, {}, ["a: key(s) X still hold a placeholder value"]),
        ({"name": "a", "env_secrets": ["S"]}, {"S": "TODO"}, ["a: key(s) S still hold a placeholder value"]),
        ({"name": "a", "env_secrets": ["S"]}, {}, ["a: secret(s) S missing from env_file_secrets"]),
        ({"name": "a", "env_secrets": ["S"]}, {"S": "  "}, ["a: key(s) S empty"]),
        ({"name": "a", "env_required": ["R"]}, {}, ["a: required key(s) R missing"]),
        ({"name": "a", "env": {"9X": "1", "OK": "1"}}, {}, ["a: invalid key name(s) '9X'"]),
        ({"name": "a", "env": {"FOO\n": "1"}}, {}, ["a: invalid key name(s) 'FOO\\n'"]),
        ({"name": "a", "env_secrets": ["S\n"]}, {"S\n": SECRET}, ["a: invalid key name(s) 'S\\n'"]),
        ({"name": "a", "env": {"X": "one\ntwo"}}, {}, ["a: key(s) X hold a newline"]),
        ({"name": "a", "env_secrets": ["S"]}, {"S": SECRET + "\r"}, ["a: key(s) S hold a newline"]),
        ({"name": "a", "env": {"X": True}}, {}, ["a: key(s) X are a boolean, a list or a mapping"]),
        ({"name": "a", "env": {"X": {"k": "v"}}}, {}, ["a: key(s) X are a boolean, a list or a mapping"]),
        ({"name": "a", "env": {"X": 3000, "Y": 1.5}}, {}, []),
        ({"name": "a", "env": {"S": "1"}, "env_secrets": ["S"]}, {"S": SECRET}, ["a: key(s) S given more than once"]),
        ({"name": "a", "env_secrets": ["S", "S"]}, {"S": SECRET}, ["a: key(s) S given more than once"]),
    ],
)
def test_problems(service, secrets, expected):
    found = _env_rules.problems(service, secrets, PLACEHOLDERS)
    assert len(found) == len(expected), found
    for message, start in zip(found, expected, strict=True):
        assert message.startswith(start), message
        assert SECRET not in message


def test_example_file_declares_required_keys_and_duplicates():
    text = "# comment\nA=1\nexport B=\n\nA=2\n"
    assert _env_rules.example_keys(text) == ["A", "B", "A"]
    found = _env_rules.problems({"name": "svc", "env": {"A": "x"}}, {}, [], text)
    assert "svc: the example file declares A more than once" in found
    assert "svc: required key(s) B missing" in found


@pytest.mark.parametrize(
    ("value", "quoted"),
    [("plain", '"plain"'), ('say "hi"', '"say \\"hi\\""'), ("$HOME `x` \\", '"\\$HOME \\`x\\` \\\\"'), (None, '""')],
)
def test_quote(value, quoted):
    assert _env_rules.quote(value) == quoted


def test_changed_keys_by_name_only():
    old = '# header\nA="1"\nB="2"\nC="3"\n'
    new = '# other header\nA="1"\nB="20"\nD="4"\n'
    assert _env_rules.changed_keys(old, new) == {"added": ["D"], "removed": ["C"], "modified": ["B"]}


def test_service_model_defaults_fill_what_is_left_out():
    (entry,) = _service_model.with_defaults([{"name": "api", "exec": "x", "health": {"url": "http://h/"}}])
    assert entry["packaged"] is False
    assert entry["hardening"] == "standard"
    assert entry["env"] == {}
    assert entry["health"] == {"url": "http://h/", "status": 200, "timeout": 30}

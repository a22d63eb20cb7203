"""Secrets out of what the collection prints from hosts."""

import pytest
from ansible_collections.steadyops.stack.plugins.filter.redact import MASK, redact

SECRETS = {
    "DATABASE_URL": "postgresql://tms:p%40ss-w0rd-4f1c@127.0.0.1:5432/tms",
    "JWT_SECRET_KEY": "canary-5be1-never-print-me",
    "SHORT": "ab",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("connecting with canary-5be1-never-print-me", "connecting with " + MASK),
        ("url=postgresql://tms:p%40ss-w0rd-4f1c@127.0.0.1:5432/tms", "url=" + MASK),
        # Programs print the password alone, raw or URL-encoded.
        ("auth failed for p@ss-w0rd-4f1c", "auth failed for " + MASK),
        ("auth failed for p%40ss-w0rd-4f1c", "auth failed for " + MASK),
        ("a table called ab stays", "a table called ab stays"),  # too short to mask safely
        ("", ""),
    ],
)
def test_every_known_secret_is_masked(text, expected):
    assert redact(text, SECRETS) == expected


def test_lines_and_lists_of_secrets_work_too():
    assert redact(["x canary-5be1-never-print-me", "y"], ["canary-5be1-never-print-me"]) == ["x " + MASK, "y"]


def test_nothing_to_mask_leaves_the_text():
    assert redact("journal line", {}) == "journal line"
    assert redact(None, SECRETS) == ""

"""Filters of the deploy role."""

import pytest
from ansible_collections.steadyops.stack.plugins.filter.deploy import failed_check, summary_line


def test_a_failed_loop_names_the_item_that_failed():

    result = {
        "msg": "One or more items failed",
        "results": [
            {"failed": False, "item": {"unit": "api.service"}},
            {"failed": True, "item": {"unit": "web@3001.service"}, "msg": "Status code was 500 and not [200]"},
        ],
    }
    assert failed_check("Check each service answers its health URL", result) == (
        "Check each service answers its health URL [web@3001.service]: Status code was 500 and not [200]"
    )
    assert failed_check("Check nginx", {"msg": "boom"}) == "Check nginx: boom"


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"state": "deployed", "release": "b", "previous": "a"}, "h: serves b (new; was a)"),
        ({"state": "deployed", "release": "b", "previous": ""}, "h: serves b (new; was nothing)"),
        ({"state": "unchanged", "release": "b"}, "h: serves b (unchanged)"),
        (
            {"state": "rolled back", "release": "a", "failed_release": "b", "failure": "Check x: 500"},
            "h: serves a (rolled back from b: Check x: 500)",
        ),
        ({}, "h: not switched in this run"),
    ],
)
def test_the_summary_says_what_serves(result, expected):
    assert summary_line((result, "h")).startswith(expected)

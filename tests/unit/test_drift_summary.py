"""What the drift report says of a changed result: where and how much, never what a file holds."""

import pytest
from ansible_collections.steadyops.stack.plugins.callback.drift_report import diff_summary, item_label, per_file_changes

CANARY = "s3cret-canary-4411"


def test_file_content_is_counted_not_shown():
    result = {
        "changed": True,
        "diff": [
            {
                "before": "LOG_LEVEL=info\nTOKEN=old\n",
                "after": "LOG_LEVEL=debug\nTOKEN=%s\n" % CANARY,
                "before_header": "/opt/tms/shared/tms-api.env",
                "after_header": "/opt/tms/shared/tms-api.env",
            }
        ],
    }
    assert diff_summary(result) == "/opt/tms/shared/tms-api.env: +2 -2 lines"


def test_file_attributes_are_shown_by_name_and_value():
    result = {
        "changed": True,
        "diff": {"before": {"path": "/x", "mode": "0644"}, "after": {"path": "/x", "mode": "0600"}},
    }
    assert diff_summary(result) == "mode 0644 -> 0600"


def test_other_attributes_are_named_without_their_values():
    result = {"changed": True, "diff": {"before": {"content": "old"}, "after": {"content": CANARY}}}
    assert diff_summary(result) == "content"


def test_a_prepared_diff_is_counted():
    assert diff_summary({"changed": True, "diff": {"prepared": "a\nb\n%s\n" % CANARY}}) == "3 lines of changes prepared"


def test_a_no_log_result_says_nothing_else():
    assert (
        diff_summary({"changed": True, "censored": "hidden", "diff": {"prepared": CANARY}}) == "details hidden (no_log)"
    )


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"changed": True, "state": "started"}, "state: started"),
        ({"changed": True, "msg": "1 stray signalled"}, "msg: 1 stray signalled"),
        ({"changed": True, "msg": "a\nlong output"}, "changed"),
        ({"changed": True}, "changed"),
    ],
)
def test_without_a_diff_a_short_one_line_state_or_message(result, expected):
    assert diff_summary(result) == expected


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"_ansible_item_label": "tms-api.service", "item": {"secret": CANARY}}, "tms-api.service"),
        ({"item": "b"}, "b"),
        ({"item": {"name": "x", "password": CANARY}}, None),
        ({"_ansible_no_log": True, "_ansible_item_label": "x"}, None),
    ],
)
def test_item_labels_never_carry_a_dict(result, expected):
    assert item_label(result) == expected


def test_a_file_set_result_is_one_entry_per_file_it_changed_never_its_content():
    result = {
        "changed": True,
        "dest": "/usr/local/lib/steadyops",
        "dest_changes": ["mode"],
        "files": [
            {"name": "_procfs.py", "state": "updated", "changes": ["content"]},
            {"name": "free_port.py", "state": "unchanged", "changes": []},
            {"name": "stays_up.py", "state": "created", "changes": ["content", "mode", "owner", "group"]},
        ],
        "diff": [{"before": "x = 1\n", "after": CANARY, "before_header": "/usr/local/lib/steadyops/_procfs.py"}],
    }
    assert per_file_changes(result) == [
        ("/usr/local/lib/steadyops/", "mode"),
        ("_procfs.py", "updated: content"),
        ("stays_up.py", "created: content, mode, owner, group"),
    ]
    assert per_file_changes({"changed": True, "censored": "hidden", "files": result["files"]}) == []
    assert per_file_changes({"changed": True, "diff": {}}) == []

"""Arguments of a systemd command line arrive exactly as given, or are refused."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.steadyops.stack.plugins.filter.systemd import systemd_quote


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (r"api/app\.py", r'"api/app\\.py"'),
        ("(^|/)next-server ", '"(^|/)next-server "'),
        ('say "hi"', r'"say \"hi\""'),
        ("%H and %u", '"%%H and %%u"'),
        ("$HOME ${PORT}", '"$$HOME $${PORT}"'),
        ("it's", '"it\'s"'),
    ],
)
def test_each_character_is_escaped_for_systemd(value, expected):
    assert systemd_quote(value) == expected


@pytest.mark.parametrize("value", ["x\nExecStartPre=+/bin/touch /tmp/x", "a\rb", "nul\x00"])
def test_a_control_character_is_refused(value):
    with pytest.raises(AnsibleFilterError, match="control character"):
        systemd_quote(value)

"""What a failed start put back, said by path; nothing put back said as such."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.steadyops.stack.plugins.filter.put_back import put_back_summary


def test_every_kind_of_file_is_named_by_its_path():
    record = {
        "units": ["/etc/systemd/system/api@.service", "/etc/systemd/system/nginx.service.d/50-steadyops.conf"],
        "units_removed": ["/etc/systemd/system/new.service"],
        "env_files": ["/opt/app/shared/api.env"],
        "env_files_removed": ["/opt/app/shared/new.env"],
        "env_files_kept": ["/opt/app/shared/worker.env"],
        "services": ["api", "nginx"],
        "new_services": ["new"],
    }
    assert put_back_summary(record) == (
        "the unit files /etc/systemd/system/api@.service, /etc/systemd/system/nginx.service.d/50-steadyops.conf;"
        " the env files /opt/app/shared/api.env;"
        " removed, new in this run: /etc/systemd/system/new.service, /opt/app/shared/new.env;"
        " NOT put back, kept without a backup (env_file_backup is off): /opt/app/shared/worker.env"
    )


def test_an_empty_record_says_that_nothing_changed():
    empty = {"units": [], "units_removed": [], "env_files": [], "env_files_removed": [], "env_files_kept": []}
    assert put_back_summary(empty) == "nothing (no unit or env file changed in this run)"
    assert put_back_summary(None) == put_back_summary(empty)


@pytest.mark.parametrize(
    ("record", "said"),
    [
        ("units: [a]", r"\(a mapping\), not str"),
        (["a.service"], r"\(a mapping\), not list"),
        ({"units": "a.service"}, "units must be lists of paths"),
    ],
)
def test_something_that_is_not_a_record_fails_naming_what_it_is(record, said):
    with pytest.raises(AnsibleFilterError, match=said):
        put_back_summary(record)

"""Which backups Ansible's backup option left are old enough to go: per original file, beyond the newest few."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.steadyops.stack.plugins.filter.backups import backups_beyond


def backup(path, pid, stamp, mtime):
    return {"path": "%s.%d.%s~" % (path, pid, stamp), "mtime": mtime}


FILES = [
    backup("/opt/tms/shared/tms-api.env", 101, "2026-11-01@10:00:00", 100),
    backup("/opt/tms/shared/tms-api.env", 202, "2026-11-02@10:00:00", 200),
    backup("/opt/tms/shared/tms-api.env", 303, "2026-11-03@10:00:00", 300),
    backup("/opt/tms/shared/tms-worker.env", 404, "2026-11-01@10:00:00", 150),
    {"path": "/opt/tms/shared/tms-api.env", "mtime": 400},  # the live file
    {"path": "/opt/tms/shared/tms-api.env.orig~", "mtime": 1},  # someone's own copy
]


def test_each_file_keeps_its_newest_backups():
    assert backups_beyond(FILES, 2) == ["/opt/tms/shared/tms-api.env.101.2026-11-01@10:00:00~"]


def test_keep_zero_removes_every_backup_and_nothing_else():
    assert sorted(backups_beyond(FILES, 0)) == sorted(entry["path"] for entry in FILES[:4])


def test_nothing_beyond_is_nothing():
    assert backups_beyond(FILES, 3) == []
    assert backups_beyond([], 3) == []


@pytest.mark.parametrize("keep", [-1, "3", True, 2.5])
def test_a_bad_keep_is_refused(keep):
    with pytest.raises(AnsibleFilterError, match="keep must be a whole number"):
        backups_beyond(FILES, keep)

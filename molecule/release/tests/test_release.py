"""Releases on a lab host, driven by real ansible-playbook runs of the role, in file order.

After converge current is v1 (git). The tests then deploy v2 (git), v3..v5
(archives on the controller), fail a build, roll back and prune.
"""

import hashlib
import json
import os
import re
import subprocess

import pytest

ROOT = "/opt/tms"
ARCHIVES = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")


def said(output):
    """OUTPUT as one line of words, YAML's quote escaping undone: ansible-core 2.16 writes a message
    holding ' as a single-quoted YAML string (''), 2.19 another way; the words are the same."""
    return " ".join(output.replace("''", "'").split())


def play(host, tmp_path, extra_vars=None, tasks_from="main", check=False):
    """Run the role on this host alone; (returncode, output, recap counters)."""
    project = os.environ["MOLECULE_PROJECT_DIRECTORY"]
    playbook = tmp_path / "release.yml"
    playbook.write_text(
        "- name: Run the release role\n"
        "  hosts: all\n"
        "  gather_facts: false\n"
        "  vars_files: [%s/molecule/release/vars/stack.yml]\n"
        "  tasks:\n"
        "    - name: Release\n"
        "      ansible.builtin.include_role:\n"
        "        name: steadyops.stack.release\n"
        "        tasks_from: %s\n"
        "    - name: Show the result\n"
        "      ansible.builtin.debug:\n"
        '        msg: "release_result={{ release_result | default({}) | to_json }}"\n' % (project, tasks_from)
    )
    (tmp_path / "vars.json").write_text(json.dumps(extra_vars or {}))
    command = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "-l", host.backend.get_hostname()]
    command += ["-e", "@%s" % (tmp_path / "vars.json"), str(playbook)] + (["--check"] if check else [])
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    counters = re.search(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", output)
    assert counters, output
    ok, changed, unreachable, failed = map(int, counters.groups())
    assert unreachable == 0, output
    return result.returncode, output, {"ok": ok, "changed": changed, "failed": failed}


def release_result(output):
    """The release_result fact the role set, as the play's last task printed it."""
    # A long message may be folded over lines by the callback; JSON takes the line breaks as spaces.
    return json.loads(re.search(r"release_result=(\{.*?\})", output, re.S).group(1))


def git_source(version):
    return {"stack_source": {"type": "git", "repo": "/srv/git/tms.git", "version": version}}


def archive_source(version, **more):
    return dict({"stack_source": {"type": "archive", "src": "%s/app-%s.tar.gz" % (ARCHIVES, version)}}, **more)


def commit_id(host, tag):
    return host.check_output("git --git-dir=/srv/git/tms.git rev-parse %s^{commit}" % tag)[:12]


def archive_id(version):
    with open("%s/app-%s.tar.gz" % (ARCHIVES, version), "rb") as archive:
        return hashlib.sha256(archive.read()).hexdigest()[:12]


def link(host, name):
    entry = host.file("%s/%s" % (ROOT, name))
    return host.check_output("readlink %s/%s" % (ROOT, name)) if entry.is_symlink else None


def releases(host):
    return sorted(host.check_output("ls -A %s/releases" % ROOT).split())


def tree(host):
    """Every path under the root with its link target and mtime: what 'nothing changed' compares."""
    return host.check_output("find %s -path %s/.cache -prune -o -printf '%%p %%l %%T@\\n' | sort" % (ROOT, ROOT))


def test_converge_built_v1_and_made_it_current(host):
    v1 = commit_id(host, "v1")
    release = "%s/releases/%s" % (ROOT, v1)
    assert link(host, "current") == "releases/" + v1
    assert link(host, "previous") is None
    assert host.file(release + "/VERSION").content_string == "v1\n"
    assert host.file(release + "/BUILT_BY").content_string == "deploy"
    assert host.file(release + "/.env").linked_to == ROOT + "/shared/tms-backend.env"
    assert (host.file(release).user, host.file(release).group) == ("deploy", "tmsapp")
    assert not host.file(release + "/.git").exists
    assert releases(host) == [v1]


def test_a_new_version_switches_and_v1_becomes_previous(host, tmp_path):
    rc, output, counters = play(host, tmp_path, git_source("v2"))
    assert rc == 0, output
    assert counters["changed"] > 0
    assert link(host, "current") == "releases/" + commit_id(host, "v2")
    assert release_result(output) == {
        "id": commit_id(host, "v2"),
        "path": "%s/releases/%s" % (ROOT, commit_id(host, "v2")),
        "built": True,
        "switched": True,
    }
    assert link(host, "previous") == "releases/" + commit_id(host, "v1")

    rc, output, counters = play(host, tmp_path, git_source("v2"))
    assert rc == 0, output
    assert counters["changed"] == 0, output
    assert release_result(output)["built"] is False


def test_check_mode_reports_the_change_and_makes_none(host, tmp_path):
    before = tree(host)
    rc, output, counters = play(host, tmp_path, archive_source("v3"), check=True)
    assert rc == 0, output
    assert counters["changed"] > 0
    assert "Would fetch and build release %s" % archive_id("v3") in output
    assert tree(host) == before


def test_a_failed_build_leaves_current_alone_and_the_next_run_recovers(host, tmp_path):
    v2, v3 = commit_id(host, "v2"), archive_id("v3")
    rc, output, counters = play(host, tmp_path, archive_source("v3", release_build_commands=[["false"]]))
    assert rc == 2, output
    assert counters["failed"] == 1
    assert "Build the release" in output
    assert link(host, "current") == "releases/" + v2
    assert v3 + ".partial" in releases(host)
    assert v3 not in releases(host)

    rc, output, _counters = play(host, tmp_path, archive_source("v3"))
    assert rc == 0, output
    assert link(host, "current") == "releases/" + v3
    assert link(host, "previous") == "releases/" + v2
    assert v3 + ".partial" not in releases(host)
    assert host.file("%s/releases/%s/VERSION" % (ROOT, v3)).content_string == "v3\n"


def test_rollback_returns_to_previous_and_a_second_one_undoes_it(host, tmp_path):
    v2, v3 = commit_id(host, "v2"), archive_id("v3")
    rc, output, _counters = play(host, tmp_path, tasks_from="rollback")
    assert rc == 0, output
    assert (link(host, "current"), link(host, "previous")) == ("releases/" + v2, "releases/" + v3)
    rc, output, _counters = play(host, tmp_path, tasks_from="rollback")
    assert rc == 0, output
    assert (link(host, "current"), link(host, "previous")) == ("releases/" + v3, "releases/" + v2)


def test_pruning_keeps_the_newest_and_never_current_or_previous(host, tmp_path):
    v1, v2 = commit_id(host, "v1"), commit_id(host, "v2")
    v3, v4, v5 = archive_id("v3"), archive_id("v4"), archive_id("v5")
    assert releases(host) == sorted([v1, v2, v3])
    # Back to v2 first, so that deploying v4 makes the older v2 previous: it stays, the newer v3 goes.
    assert play(host, tmp_path, tasks_from="rollback")[0] == 0
    rc, output, _counters = play(host, tmp_path, archive_source("v4", release_keep=1))
    assert rc == 0, output
    assert (link(host, "current"), link(host, "previous")) == ("releases/" + v4, "releases/" + v2)
    assert releases(host) == sorted([v4, v2])
    rc, output, _counters = play(host, tmp_path, archive_source("v5", release_keep=0))
    assert rc == 0, output
    assert releases(host) == sorted([v5, v4])


def test_a_tarball_with_a_top_directory_is_unpacked_without_it(host, tmp_path):
    source = {"type": "archive", "src": "%s/app-v6.tar.gz" % ARCHIVES, "strip_components": 1}
    rc, output, _counters = play(host, tmp_path, {"stack_source": source})
    assert rc == 0, output
    release = "%s/releases/%s" % (ROOT, archive_id("v6"))
    assert link(host, "current") == "releases/" + archive_id("v6")
    assert host.file(release + "/VERSION").content_string == "v6\n"
    assert not host.file(release + "/tms-v6").exists


def test_a_current_that_is_a_directory_is_never_replaced(host, tmp_path):
    # A server deployed by hand before this role: its current is the running code itself.
    host.run_test("rm -rf /opt/legacy && mkdir -p /opt/legacy/current /opt/legacy/releases/0123456789ab")
    host.run_test("echo running > /opt/legacy/current/VERSION")
    rc, output, _counters = play(
        host, tmp_path, {"stack_app_root": "/opt/legacy", "release_switch_to": "0123456789ab"}, tasks_from="switch"
    )
    assert rc == 2, output
    assert "/opt/legacy/current is a directory, not a link to a release" in said(output)
    assert host.file("/opt/legacy/current").is_directory
    assert host.file("/opt/legacy/current/VERSION").content_string == "running\n"
    assert not host.file("/opt/legacy/current.next").exists


@pytest.mark.parametrize(
    ("extra_vars", "message"),
    [
        (archive_source("v9"), "app-v9.tar.gz does not exist on the controller. Nothing was changed."),
        (
            archive_source("v5", release_shared_links=[{"path": "../../etc/evil", "target": "shared/x"}]),
            "release_shared_links must stay inside the release and point into shared/",
        ),
        (archive_source("v5", release_keep=-1), "release_keep cannot be negative"),
        ({"stack_source": {"type": "git"}}, "release_source git needs repo"),
        (
            archive_source("v5", release_shared_links=[{"path": "x\n/../../../etc/evil", "target": "shared/x"}]),
            "release_shared_links must stay inside the release and point into shared/",
        ),
    ],
    ids=["missing-archive", "link-escaping-the-release", "negative-keep", "git-without-repo", "link-with-a-newline"],
)
def test_bad_input_is_refused_with_nothing_changed(host, tmp_path, extra_vars, message):
    before = tree(host)
    rc, output, counters = play(host, tmp_path, extra_vars)
    assert rc == 2, output
    assert message in said(output)
    assert counters["changed"] == 0
    assert tree(host) == before


def test_a_shared_link_through_a_symlink_the_release_ships_is_refused(host, tmp_path):
    current = link(host, "current")
    links = [{"path": "cfg/steadyops-injected.conf", "target": "shared/tms-backend.env"}]
    rc, output, _counters = play(host, tmp_path, archive_source("v7", release_shared_links=links))
    assert rc == 2, output
    assert "send shared links cfg/steadyops-injected.conf outside it" in said(output)
    assert not host.file("/etc/steadyops-injected.conf").exists
    assert link(host, "current") == current
    assert not host.file("%s/releases/%s.partial" % (ROOT, archive_id("v7"))).exists


def test_an_empty_release_is_never_switched_to(host, tmp_path):
    before = tree(host)
    source = {"type": "archive", "src": "%s/app-v3.tar.gz" % ARCHIVES, "strip_components": 99}
    rc, output, _counters = play(host, tmp_path, {"stack_source": source, "release_required_files": []})
    assert rc == 2, output
    assert "is empty (strip_components 99 removed everything?)" in said(output)
    # Only the releases directory's own mtime moves: the empty partial was made and removed.
    assert without_releases_mtime(tree(host)) == without_releases_mtime(before)


def without_releases_mtime(listing):
    return [line for line in listing.splitlines() if not line.startswith("%s/releases " % ROOT)]


@pytest.mark.parametrize("check", [False, True], ids=["apply", "check-mode"])
def test_switching_to_a_release_that_is_not_built_is_refused(host, tmp_path, check):
    before = tree(host)
    rc, output, _counters = play(
        host, tmp_path, {"release_switch_to": "0123456789ab"}, tasks_from="switch", check=check
    )
    assert rc == 2, output
    assert "There is no complete release 0123456789ab" in said(output)
    assert tree(host) == before


@pytest.mark.parametrize(
    ("extra_vars", "tasks_from", "message"),
    [
        ({"release_switch_to": "../../../etc"}, "switch", 'release_switch_to "../../../etc" is not a release id'),
        ({"release_switch_to": "x\nExecStart=/bin/sh"}, "switch", "is not a release id"),
        (archive_source("v5", stack_app_root="opt/tms"), "main", "release_app_root 'opt/tms': an absolute path"),
    ],
    ids=["switch-to-a-path", "switch-to-a-newline", "relative-app-root"],
)
def test_a_path_that_would_leave_its_root_is_refused(host, tmp_path, extra_vars, tasks_from, message):
    before = tree(host)
    rc, output, counters = play(host, tmp_path, extra_vars, tasks_from=tasks_from)
    assert rc == 2, output
    assert message in said(output)
    assert counters["changed"] == 0
    assert tree(host) == before

"""scripts/changelog_check.py on a throw-away git repository: a shipped change without a fragment fails."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def git(repo, *args):
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def commit(repo, message, files):
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


def check(repo):
    return subprocess.run(
        [sys.executable, str(repo / "scripts/changelog_check.py")],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )


def make_repo(tmp_path):
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts/changelog_check.py", repo / "scripts")
    git(repo, "init", "-q")
    commit(repo, "before the changelog", {"plugins/modules/a.py": "1", "README.md": "x"})
    commit(repo, "changelog set-up", {"changelogs/config.yaml": "title: t\n"})
    return repo


def test_changes_with_fragments_and_changes_users_do_not_get_pass(tmp_path):
    repo = make_repo(tmp_path)
    commit(repo, "a fix", {"plugins/modules/a.py": "2", "changelogs/fragments/fix.yml": "bugfixes: [a]\n"})
    # A file users do not get: its path is what the check looks at, its content does not matter.
    commit(repo, "tests only", {"tests/test_a.py": "# not shipped\n"})
    result = check(repo)
    assert result.returncode == 0, result.stderr
    assert "2 commit(s)" in result.stdout


def test_a_shipped_change_without_a_fragment_fails_naming_it(tmp_path):
    repo = make_repo(tmp_path)
    commit(repo, "role tweak", {"roles/r/tasks/main.yml": "[]\n"})
    result = check(repo)
    assert result.returncode == 1
    assert "(role tweak) changes roles/r/tasks/main.yml but adds no changelog fragment" in result.stderr


def test_uncommitted_work_is_checked_too(tmp_path):
    repo = make_repo(tmp_path)
    (repo / "plugins/modules/a.py").write_text("3")
    result = check(repo)
    assert result.returncode == 1
    assert "the uncommitted work tree changes plugins/modules/a.py" in result.stderr
    (repo / "changelogs/fragments").mkdir(parents=True)
    (repo / "changelogs/fragments/a.yml").write_text("minor_changes: [a]\n")
    assert check(repo).returncode == 0

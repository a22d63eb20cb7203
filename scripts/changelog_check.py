"""Every change users can see comes with a changelog fragment.

A commit (or the uncommitted work tree) that changes what the collection
ships to users (plugins, roles, playbooks, meta/, galaxy.yml) must add or
edit a fragment in changelogs/fragments/ (a `trivial` one for a change users
will not notice), or be a release that edits changelogs/changelog.yaml.
Checked from the commit that set up antsibull-changelog on; `antsibull-changelog
lint` checks the fragments themselves. Run by scripts/lint.sh.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("plugins/", "roles/", "playbooks/", "meta/", "galaxy.yml")
CHANGELOG = ("changelogs/fragments/", "changelogs/changelog.yaml")


def git(*args):
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def problem(label, paths):
    """Why the change LABEL (touching PATHS) needs a fragment, or None."""
    shipped = sorted(p for p in paths if p.startswith(SHIPPED))
    if shipped and not any(p.startswith(CHANGELOG) for p in paths):
        return "%s changes %s but adds no changelog fragment" % (label, ", ".join(shipped[:3]))
    return None


def main():
    setup = git("log", "--diff-filter=A", "--format=%H", "--", "changelogs/config.yaml").split()
    if not setup:
        sys.exit("changelogs/config.yaml is not committed: run `antsibull-changelog init .` and commit it")
    commits = git("rev-list", "--reverse", "%s..HEAD" % setup[-1]).split()
    problems = []
    for commit in commits:
        paths = git("diff-tree", "--no-commit-id", "--name-only", "-r", commit).split()
        found = problem("commit %s (%s)" % (commit[:7], git("log", "-1", "--format=%s", commit)[:60].strip()), paths)
        if found:
            problems.append(found)
    work_tree = git("diff", "--name-only", "HEAD").split() + git("ls-files", "--others", "--exclude-standard").split()
    found = problem("the uncommitted work tree", work_tree)
    if found:
        problems.append(found)
    for text in problems:
        print("changelog: " + text, file=sys.stderr)
    if problems:
        sys.exit(
            "Add a fragment, changelogs/fragments/<topic>.yml, with the change under one of the sections of "
            "changelogs/config.yaml (minor_changes, bugfixes, breaking_changes, ...; trivial for what users do "
            "not see), and commit it with the change."
        )
    print("changelog: %d commit(s) since the changelog set-up and the work tree each bring a fragment" % len(commits))


if __name__ == "__main__":
    main()

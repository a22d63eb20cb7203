"""The fragments make a release: antsibull-changelog releases and generates CHANGELOG.md in a copy."""

import html
import re
import shutil
from pathlib import Path

import yaml
from support.commands import run_ok

ROOT = Path(__file__).resolve().parents[2]


def test_a_release_gathers_every_fragment_into_the_changelog(tmp_path):
    copy = tmp_path / "stack"
    copy.mkdir()
    for name in ("galaxy.yml", "changelogs"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, copy / name)
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    fragments = sorted((copy / "changelogs/fragments").glob("*.yml"))
    assert fragments, "no fragments: nothing would be released"
    sections = [yaml.safe_load(f.read_text()) for f in fragments]

    run_ok("antsibull-changelog", "release", "--version", version, "--date", "2026-12-01", cwd=copy)
    run_ok("antsibull-changelog", "generate", cwd=copy)

    released = yaml.safe_load((copy / "changelogs/changelog.yaml").read_text())["releases"][version]
    assert sorted(released["fragments"]) == sorted(f.name for f in fragments)
    notes = plain((copy / "CHANGELOG.md").read_text())
    assert "v%s" % version in notes
    # Every entry users can see is in the notes; trivial ones are kept out, as intended.
    for fragment in sections:
        for section, entries in fragment.items():
            for entry in entries:
                opening = " ".join(plain(entry).split()[:8])
                assert (opening in notes) == (section != "trivial"), (section, entry)
    # What the release wrote stays within the repository's own YAML rules.
    run_ok("yamllint", "--strict", "-c", str(ROOT / ".yamllint"), "changelogs/changelog.yaml", cwd=copy)


def plain(text):
    """TEXT without code marks, tags, escapes and line breaks: words compared across RST and generated Markdown."""
    text = html.unescape(re.sub(r"<[^>]+>", "", text)).replace("\\", "")
    return " ".join(text.replace("``", "").replace("`", "").split())

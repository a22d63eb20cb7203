"""Every file the docs and the comments name is a file the project ships: a user can open what we point at."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP = r"(?:roles|plugins|playbooks|scripts|docs|tests|molecule|bench|examples|inventories|changelogs|\.config|\.ci)"
# A path from the project's root, such as roles/<role>/tasks/main.yml.
PATH = re.compile(r"(?<![\w./<{$-])(%s/[\w./@-]*[\w@-])" % TOP)
# A document named by its name alone: DESIGN.md, VARIABLES.md.
DOCUMENT = re.compile(r"(?<![\w/.-])([A-Z][A-Z_]+\.md)\b")
# Paths tools make (ansible-test's output) and the changelog's record of what once was.
NOT_NAMES = ("tests/output",)
HISTORY = ("changelogs/", "CHANGELOG.md")


def tracked():
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [name for name in listed.splitlines() if (ROOT / name).is_file()]


def prose(name, text):
    """What a file says to its reader: all of a Markdown file, the comment lines of anything else."""
    if name.endswith(".md"):
        return text
    return "\n".join(line for line in text.splitlines() if line.lstrip().startswith(("#", "{#", "//", ";")))


def named_but_missing(name, text, documents):
    missing = []
    for match in PATH.finditer(text):
        path = match.group(1).rstrip(".")
        if "..." in path or path.startswith(NOT_NAMES):
            continue
        if not (ROOT / path).exists():
            missing.append(path)
    missing.extend(document for document in DOCUMENT.findall(text) if document not in documents)
    return ["%s names %s" % (name, path) for path in missing]


def test_every_file_named_in_docs_and_comments_exists():
    names = tracked()
    documents = {Path(name).name for name in names}
    missing = []
    for name in names:
        if name.startswith(HISTORY):
            continue
        try:
            text = (ROOT / name).read_text()
        except UnicodeDecodeError:
            continue
        missing.extend(named_but_missing(name, prose(name, text), documents))
    assert missing == []


def test_the_check_sees_a_missing_path_and_a_missing_document():
    said = "# see roles/nothing/tasks/main.yml and LAB.md; roles/host_helpers/vars/main.yml is real\n"
    assert named_but_missing("x.yml", prose("x.yml", said), {"DESIGN.md"}) == [
        "x.yml names roles/nothing/tasks/main.yml",
        "x.yml names LAB.md",
    ]

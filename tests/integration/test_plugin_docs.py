"""Every plugin documents itself, and every example users may copy names only what exists and parses.

The examples are each plugin's EXAMPLES (as ansible-doc gives them) and the
YAML blocks of the README, docs/DESIGN.md and each role's README (tasks,
plays, or inventory variables). Each one becomes a playbook that `ansible-playbook --syntax-check` reads (modules and
roles resolve), and every `steadyops.stack.<name>` it mentions must be a
plugin, role or playbook of the collection (a filter in a Jinja expression
is not resolved by a syntax check).
"""

import json
import os
import re
from pathlib import Path

import pytest
import yaml
from support.commands import run_ok

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".cache" / "collections"
KINDS = ("module", "filter", "test", "callback")
PROSE = [ROOT / "README.md", ROOT / "docs" / "DESIGN.md", *sorted(ROOT.glob("roles/*/README.md"))]
MENTION = re.compile(r"steadyops\.stack\.(\w+)")


ENV = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1")


def ansible_doc(*args):
    return run_ok("ansible-doc", *args, env=ENV)


@pytest.fixture(scope="module")
def plugins():
    """{kind: {name: short description}} of the collection's plugins."""
    return {kind: json.loads(ansible_doc("-t", kind, "-l", "steadyops.stack", "--json")) for kind in KINDS}


@pytest.fixture(scope="module")
def docs(plugins):
    """{kind: {name: ansible-doc's JSON}} of every plugin."""
    return {kind: json.loads(ansible_doc("-t", kind, "--json", *sorted(listed))) for kind, listed in plugins.items()}


@pytest.fixture(scope="module")
def known_names(plugins):
    names = {name.split(".")[-1] for listed in plugins.values() for name in listed}
    names |= {path.name for path in (ROOT / "roles").iterdir() if path.is_dir()}
    names |= {path.stem for path in (ROOT / "playbooks").glob("*.yml")}
    return names


@pytest.fixture(scope="module")
def examples(docs):
    """(where, YAML text) of every example users may copy."""
    found = []
    for kind, by_name in docs.items():
        for name, doc in sorted(by_name.items()):
            if doc["examples"]:
                found.append(("%s %s" % (kind, name), doc["examples"]))
    for path in PROSE:
        blocks = re.findall(r"^```yaml\n(.*?)^```", path.read_text(), re.MULTILINE | re.DOTALL)
        found.extend(("%s block %d" % (path.relative_to(ROOT), n + 1), block) for n, block in enumerate(blocks))
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_every_plugin_is_documented(plugins, docs, kind):
    assert plugins[kind], "no %s plugin found" % kind
    undocumented = sorted(name for name, short in plugins[kind].items() if short in ("UNDOCUMENTED", ""))
    assert undocumented == []
    assert sorted(name for name, doc in docs[kind].items() if not doc["doc"].get("description")) == []
    rendered = ansible_doc("-t", kind, *sorted(plugins[kind]))
    for name in plugins[kind]:
        assert name in rendered


def test_examples_name_only_what_the_collection_has(examples, known_names):
    unknown = [(where, name) for where, text in examples for name in MENTION.findall(text) if name not in known_names]
    assert unknown == []


def test_examples_pass_a_syntax_check(examples, tmp_path):
    imports = []
    for n, (where, text) in enumerate(examples):
        content = yaml.safe_load(text)
        play = {"name": where, "hosts": "localhost", "gather_facts": False}
        if isinstance(content, dict):  # inventory variables
            plays = [dict(play, vars=content, tasks=[])]
        elif all(isinstance(item, dict) and ("hosts" in item or "import_playbook" in item) for item in content):
            plays = content
        else:
            plays = [dict(play, tasks=content)]
        path = tmp_path / ("example-%02d.yml" % n)
        path.write_text("# %s\n%s" % (where, yaml.safe_dump(plays, sort_keys=False)))
        imports.append({"name": where, "ansible.builtin.import_playbook": path.name})
    (tmp_path / "all.yml").write_text(yaml.safe_dump(imports, sort_keys=False))
    run_ok("ansible-playbook", "-i", "localhost,", "--syntax-check", "all.yml", env=ENV, cwd=tmp_path)
    assert len(imports) >= 10

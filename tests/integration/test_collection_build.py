"""The collection builds into a tarball of what users need, and installs offline with its dependencies."""

import os
import tarfile
from pathlib import Path

import pytest
import yaml
from support.commands import build_collection, run_ok

ROOT = Path(__file__).resolve().parents[2]
# What a user of the collection gets; the rest of the repository (lab, tests,
# the demo and its inventories, lint configs, the checkout's playbook wrappers
# and ansible.cfg) is ours.
SHIPPED = {
    "CHANGELOG.md",
    "FILES.json",
    "LICENSE",
    "MANIFEST.json",
    "README.md",
    "changelogs",
    "docs",
    "meta",
    "playbooks",
    "plugins",
    "requirements.yml",
    "roles",
}


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    return build_collection(tmp_path_factory.mktemp("dist"))


def test_the_tarball_holds_only_what_users_need(tarball):
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    top = {name.split("/", 1)[0] for name in names}
    assert top == SHIPPED
    assert not [name for name in names if "__pycache__" in name or name.endswith((".pyc", ".retry"))]
    for needed in (
        "plugins/modules/queue_purge.py",
        "plugins/callback/drift_report.py",
        "roles/release/meta/argument_specs.yml",
        "playbooks/deploy.yml",
        "roles/status_page/templates/status.html.j2",
        "roles/host_helpers/files/steadyops_health.py",
        "plugins/action/file_set.py",
    ):
        assert needed in names


def test_the_declared_dependencies_are_the_collections_the_content_calls():
    declared = set(yaml.safe_load((ROOT / "galaxy.yml").read_text())["dependencies"])
    requirements = {item["name"] for item in yaml.safe_load((ROOT / "requirements.yml").read_text())["collections"]}
    called = set()
    for path in [*ROOT.glob("roles/**/*.yml"), *ROOT.glob("playbooks/**/*.yml")]:
        for word in path.read_text().split():
            parts = word.rstrip(":").split(".")
            if len(parts) == 3 and parts[0] in ("ansible", "community") and parts[1] not in ("builtin", "legacy"):
                called.add("%s.%s" % tuple(parts[:2]))
    assert called == declared == requirements


def test_it_installs_offline_beside_its_dependencies_and_documents_itself(tarball, tmp_path):
    install_dir = tmp_path / "collections"
    # Away from this checkout's ansible.cfg and its collections path, as a user would be.
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(install_dir), ANSIBLE_CONFIG="")
    install = ["ansible-galaxy", "collection", "install", "--offline", "-p", str(install_dir), str(tarball)]
    installing = run_ok(*install, env=env, cwd=tmp_path)
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    assert "steadyops.stack:%s was installed successfully" % version in installing
    assert (install_dir / "ansible_collections/steadyops/stack/MANIFEST.json").is_file()
    # Galaxy cannot be reached here: each declared dependency is resolved from
    # the copy the `ansible` package installed.
    for name in yaml.safe_load((ROOT / "galaxy.yml").read_text())["dependencies"]:
        assert "'%s:" % name in installing, installing
    doc = run_ok("ansible-doc", "steadyops.stack.port_free", env=env, cwd=tmp_path)
    assert str(install_dir / "ansible_collections/steadyops/stack") in doc

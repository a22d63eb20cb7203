"""The collection in an execution environment: what ansible-builder reads of it, and a run with nothing else.

Galaxy and container registries cannot be reached here, so: ansible-builder
introspects the installed collection and writes a build context offline
(nothing is built or pulled), and a playbook runs from a fresh virtualenv
holding only ansible-core, the EE's Python requirements (meta/ee-requirements.txt)
and the collections galaxy.yml declares, installed from tarballs built from
the copies on this machine.
"""

import json
import os
import shutil
import sys
from pathlib import Path

import ansible
import ansible_collections
import pytest
import yaml
from support.commands import build_collection, run_ok

ROOT = Path(__file__).resolve().parents[2]
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
# The keys of a MANIFEST's collection_info that galaxy.yml takes back.
GALAXY_KEYS = ["namespace", "name", "version", "authors", "readme", "description", "license", "license_file",
               "tags", "dependencies", "repository", "documentation", "homepage", "issues"]  # fmt: skip
PLAY = """
- name: The collection, its dependencies and the EE's libraries, nothing else
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The module, on the controller as the playbooks delegate it
      steadyops.stack.email_validate:
        emails: [ops@example.com, test@gmail.test]
        policy: staging
      register: audit
    - name: The test plugin and a filter
      ansible.builtin.assert:
        that:
          - "'test@gmail.test' is not steadyops.stack.valid_email"
          - "'DATABASE_URL=x' | steadyops.stack.redact(['x-secret-value']) == 'DATABASE_URL=x'"
          - "audit.totals.would_fail_in == {'production': 1}"
"""


def installed(name):
    """Where the `ansible` package installed collection NAME."""
    relative = Path(*name.split("."))
    return next(Path(root) / relative for root in ansible_collections.__path__ if (Path(root) / relative).is_dir())


def tarball_of_installed(name, dist, work):
    """A collection tarball rebuilt from the installed copy: its MANIFEST's collection_info as galaxy.yml."""
    source = work / name
    shutil.copytree(installed(name), source)
    info = json.loads((source / "MANIFEST.json").read_text())["collection_info"]
    for generated in ("MANIFEST.json", "FILES.json"):
        (source / generated).unlink()
    galaxy = {key: info[key] for key in GALAXY_KEYS if info.get(key) not in (None, "", [])}
    (source / "galaxy.yml").write_text(yaml.safe_dump(galaxy))
    run_ok("ansible-galaxy", "collection", "build", "--output-path", str(dist), str(source))
    return next(dist.glob("%s-%s-*.tar.gz" % tuple(name.split("."))))


@pytest.fixture(scope="module")
def tarballs(tmp_path_factory):
    """Ours, and one of each declared dependency."""
    dist = tmp_path_factory.mktemp("dist")
    ours = build_collection(dist)
    work = tmp_path_factory.mktemp("rebuilt")
    return [ours] + [tarball_of_installed(name, dist, work) for name in sorted(GALAXY["dependencies"])]


def test_ansible_builder_finds_the_controller_requirements(tarballs, tmp_path):
    collections = tmp_path / "collections"
    # Away from this checkout's ansible.cfg, which names its own collections path.
    env = dict(os.environ, ANSIBLE_CONFIG="")
    install = ["ansible-galaxy", "collection", "install", "--offline", "--no-deps", "-p", str(collections)]
    install.append(str(tarballs[0]))
    run_ok(*install, env=env, cwd=tmp_path)
    found = yaml.safe_load(run_ok("ansible-builder", "introspect", "--sanitize", str(collections)).split("\n", 1)[1])
    expected = [line for line in (ROOT / "meta/ee-requirements.txt").read_text().splitlines() if line[:1].isalpha()]
    assert found["python"] == ["%s  # from collection steadyops.stack" % line for line in expected]
    assert found["system"] == []


def test_ansible_builder_writes_a_build_context_offline(tarballs, tmp_path):
    (tmp_path / "requirements.yml").write_text(
        yaml.safe_dump({"collections": [{"name": "collections/%s" % path.name, "type": "file"} for path in tarballs]})
    )
    definition = {
        "version": 3,
        # Named, never pulled: `create` only writes the context.
        "images": {"base_image": {"name": "quay.io/ansible/awx-ee:latest"}},
        "dependencies": {
            "ansible_core": {"package_pip": "ansible-core==%s" % ansible.__version__},
            "ansible_runner": {"package_pip": "ansible-runner"},
            "galaxy": "requirements.yml",
        },
        "additional_build_files": [{"src": str(path), "dest": "collections"} for path in tarballs],
    }
    (tmp_path / "execution-environment.yml").write_text(yaml.safe_dump(definition))
    create = ["ansible-builder", "create", "--output-filename", "Containerfile", "--context", "context"]
    run_ok(*create, "--file", "execution-environment.yml", cwd=tmp_path)
    context = tmp_path / "context"
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-galaxy collection install" in containerfile
    assert "introspect" in containerfile  # the collections' requirements are read inside the build
    assert sorted(path.name for path in (context / "_build" / "collections").iterdir()) == sorted(
        path.name for path in tarballs
    )
    assert yaml.safe_load((context / "_build" / "requirements.yml").read_text()) == yaml.safe_load(
        (tmp_path / "requirements.yml").read_text()
    )


def test_a_playbook_runs_with_ansible_core_and_the_declared_collections_only(tarballs, tmp_path):
    venv = tmp_path / "venv"
    run_ok(sys.executable, "-m", "venv", str(venv))
    python = str(venv / "bin" / "python")
    requirements = str(ROOT / "meta" / "ee-requirements.txt")
    run_ok(python, "-m", "pip", "install", "--quiet", "ansible-core==%s" % ansible.__version__, "-r", requirements)
    bare = run_ok(python, "-c", "import importlib.util as u; print(u.find_spec('ansible_collections') is None)")
    assert bare.strip() == "True", "the virtualenv must hold no collections of its own"

    collections = tmp_path / "collections"
    env = dict(os.environ, ANSIBLE_CONFIG="", ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_NOCOLOR="1")
    env["PATH"] = "%s:%s" % (venv / "bin", env["PATH"])
    env.pop("PYTHONPATH", None)
    run_ok("ansible-galaxy", "collection", "install", "--offline", "-p", str(collections), *map(str, tarballs), env=env)

    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAY)
    interpreter = "ansible_python_interpreter=%s" % python
    output = run_ok(
        "ansible-playbook", "-i", "localhost,", "-c", "local", "-e", interpreter, str(playbook), env=env, cwd=tmp_path
    )
    assert "failed=0" in output
    # Every module and role the shipped playbooks name resolves: the declared collections are enough.
    for name in ("provision", "deploy", "drift", "maintenance", "report"):
        run_ok(
            "ansible-playbook", "-i", "localhost,", "--syntax-check", "steadyops.stack.%s" % name, env=env, cwd=tmp_path
        )

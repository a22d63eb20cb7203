"""file_set through ansible-playbook here: a set of files compared, written atomically, reported per file."""

import json
import os
import stat

import yaml
from support.playbook import run_local


def put(tmp_path, dest, files, *flags):
    """(exit status, output, the module's result) of one file_set task putting FILES in DEST."""
    result = tmp_path / "result.json"
    result.unlink(missing_ok=True)
    playbook = tmp_path / "put.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Put the files",
                    "hosts": "localhost",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "name": "Put them",
                            "steadyops.stack.file_set": {"dest": str(dest), "src_root": str(tmp_path / "src"),
                                                         "files": files},
                            "register": "put",
                        },
                        {"name": "Keep the result", "ansible.builtin.copy": {"content": "{{ put | to_json }}",
                                                                             "dest": str(result), "mode": "0600"},
                         "check_mode": False},
                    ],
                }
            ]
        )
    )  # fmt: skip
    status, output = run_local(playbook, *flags)
    return status, output, json.loads(result.read_text()) if result.exists() else None


def sources(tmp_path):
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "tool.py").write_text("print('tool')\n")
    (src / "_shared.py").write_text("VALUE = 1\n")
    (src / "data.bin").write_bytes(bytes(range(256)))
    return [
        {"src": "tool.py", "mode": "0755"},
        {"src": "_shared.py", "mode": "0644"},
        {"src": "data.bin", "mode": "0600"},
    ]


def states(result):
    return {entry["name"]: (entry["state"], entry["changes"]) for entry in result["files"]}


def test_check_apply_reapply_then_drift_is_put_back_file_by_file(tmp_path):
    files, dest = sources(tmp_path), tmp_path / "helpers"

    status, output, check = put(tmp_path, dest, files, "--check")
    assert status == 0, output
    assert check["changed"]
    assert check["dest_changes"] == ["created"]
    assert not dest.exists()

    status, output, applied = put(tmp_path, dest, files)
    assert status == 0, output
    assert applied["changed"]
    assert {name: state for name, (state, _changes) in states(applied).items()} == dict.fromkeys(
        ["tool.py", "_shared.py", "data.bin"], "created"
    )
    assert (dest / "data.bin").read_bytes() == bytes(range(256))
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in dest.iterdir()} == {
        "tool.py": 0o755,
        "_shared.py": 0o644,
        "data.bin": 0o600,
    }
    assert stat.S_IMODE(dest.stat().st_mode) == 0o755

    status, output, again = put(tmp_path, dest, files)
    assert status == 0, output
    assert not again["changed"]

    # Drift on the host: one file edited, one re-moded, one removed.
    (dest / "_shared.py").write_text("VALUE = 2\n")
    os.chmod(dest / "tool.py", 0o700)
    (dest / "data.bin").unlink()
    status, output, check = put(tmp_path, dest, files, "--check", "--diff")
    assert status == 0, output
    assert states(check) == {
        "tool.py": ("updated", ["mode"]),
        "_shared.py": ("updated", ["content"]),
        "data.bin": ("created", ["content", "mode", "owner", "group"]),
    }
    assert "-VALUE = 2" in output
    assert "+VALUE = 1" in output
    assert (dest / "_shared.py").read_text() == "VALUE = 2\n"

    status, output, fixed = put(tmp_path, dest, files)
    assert status == 0, output
    assert fixed["changed"]
    assert (dest / "_shared.py").read_text() == "VALUE = 1\n"
    assert stat.S_IMODE((dest / "tool.py").stat().st_mode) == 0o755
    assert (dest / "data.bin").exists()
    assert not [p.name for p in dest.iterdir() if p.name.endswith(".partial")]
    assert not put(tmp_path, dest, files)[2]["changed"]


def test_a_bad_entry_is_refused_naming_it_and_nothing_is_written(tmp_path):
    files, dest = sources(tmp_path), tmp_path / "helpers"
    for bad, said in (
        ({"name": "../escape.py", "content": "eA==", "mode": "0644"}, "files[3] (../escape.py)"),
        (
            {"src": "tool.py", "name": "other.py", "mode": "0644", "owner": "no-such-account-here"},
            "no-such-account-here",
        ),
        ({"src": "tool.py", "name": "third.py", "mode": "rwx"}, "'rwx'"),
        ({"src": "missing.py", "mode": "0644"}, "missing.py"),
    ):
        status, output, _result = put(tmp_path, dest, [*files, bad])
        assert status != 0
        assert said in output
        assert not dest.exists()

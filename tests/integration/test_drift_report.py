"""The drift_report callback under a real ansible-playbook run on this machine (files in a scratch dir)."""

import json
import os
from pathlib import Path

import yaml
from support.playbook import run_local

ROOT = Path(__file__).resolve().parents[2]
VERDICT = ROOT / "playbooks" / "tasks" / "drift_verdict.yml"
CANARY = "canary-drift-5be1-do-not-print"


def steps(work):
    return [
        {
            "name": "Write the env file",
            "ansible.builtin.copy": {
                "content": "LOG_LEVEL=info\nTOKEN=%s\n" % CANARY,
                "dest": str(work / "app.env"),
                "mode": "0600",
            },
            "notify": "Say the env changed",
        },
        {"name": "Keep the config private", "ansible.builtin.file": {"path": str(work / "app.conf"), "mode": "0600"}},
        {
            "name": "Write the secret file",
            "ansible.builtin.copy": {"content": CANARY, "dest": str(work / "secret"), "mode": "0600"},
            "no_log": True,
        },
        {
            "name": "Make the directories",
            "ansible.builtin.file": {"path": str(work) + "/{{ item.name }}", "state": "directory", "mode": "0700"},
            "loop": [{"name": "cache", "token": CANARY}, {"name": "logs", "token": CANARY}],
            "loop_control": {"label": "{{ item.name }}"},
        },
        {"name": "Read something", "ansible.builtin.command": "true", "changed_when": False},
    ]


def handler():
    return [{"name": "Say the env changed", "ansible.builtin.command": "true"}]


def write_playbook(tmp_path, work):
    def play(name, phase, **extra):
        return dict(
            name=name,
            hosts="localhost",
            gather_facts=False,
            vars={"drift_report_phase": phase} if phase else {},
            tasks=steps(work),
            handlers=handler(),
            **extra,
        )

    plays = [
        play("Look", "check", check_mode=True, diff=True),
        play("Correct", "correct", diff=True),
        {
            "name": "What the playbook sees",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "Note the run directory",
                    "ansible.builtin.copy": {
                        "content": "{{ lookup('ansible.builtin.env', 'STEADYOPS_DRIFT_RUN') }}",
                        "dest": str(work.parent / "seen"),
                        "mode": "0600",
                    },
                }
            ],
        },
        {
            "name": "Say whether anything drifted (drift.yml's own verdict)",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [{"name": "Verdict", "ansible.builtin.include_tasks": str(VERDICT)}],
        },
    ]
    path = tmp_path / "drift.yml"
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    return path


def run(playbook, reports, enabled=True, keep=50, *flags, drifted=False):
    """ansible-playbook's output; its exit status says whether the host drifted (2), as drift.yml's does."""
    env = {
        "STEADYOPS_REPORT_DIR": str(reports),
        "STEADYOPS_DRIFT_KEEP_RUNS": str(keep),
        "ANSIBLE_CALLBACKS_ENABLED": "steadyops.stack.drift_report",
    }
    unset = ["STEADYOPS_DRIFT_RUN"] + ([] if enabled else ["ANSIBLE_CALLBACKS_ENABLED"])
    status, output = run_local(playbook, *flags, env=env, unset=unset, cwd=str(playbook.parent))
    assert status == (2 if drifted else 0), output
    return output


def drifted_host(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "app.env").write_text("LOG_LEVEL=debug\nTOKEN=old\n")
    (work / "app.conf").write_text("x=1\n")
    (work / "app.conf").chmod(0o644)
    (work / "logs").mkdir(mode=0o700)
    (work / "logs").chmod(0o700)
    return work


def latest(reports):
    run_dir = reports / "drift" / "latest"
    return (
        run_dir.resolve(),
        json.loads((run_dir / "summary.json").read_text()),
        json.loads((run_dir / "localhost.json").read_text()),
    )


def test_a_drift_run_reports_each_drifted_item_then_what_it_corrected(tmp_path):
    work, reports = drifted_host(tmp_path), tmp_path / "reports"
    output = run(write_playbook(tmp_path, work), reports, drifted=True)
    run_dir, summary, host = latest(reports)
    assert "localhost had drifted: 4 item(s) found, 4 corrected." in output

    assert summary["drifted_hosts"] == ["localhost"]
    assert summary["hosts"]["localhost"] == {"drifted": 4, "corrected": 4, "failed": 0, "unreachable": False}
    found = [(item["task"], item["item"], item["summary"]) for item in host["drifted"]]
    assert found == [
        ("Write the env file", None, "%s: +2 -2 lines" % (work / "app.env")),
        ("Keep the config private", None, "mode 0644 -> 0600"),
        ("Write the secret file", None, "details hidden (no_log)"),
        ("Make the directories", "cache", "state absent -> directory"),
    ]
    assert [item["task"] for item in host["corrected"]] == [task for task, _item, _summary in found]
    # A handler is a consequence, listed apart (in check mode a command handler does not run).
    assert [(entry["task"], entry["phase"]) for entry in host["handlers"]] == [("Say the env changed", "correct")]
    assert (tmp_path / "seen").read_text() == str(run_dir)
    assert "localhost: 4 drifted, 4 corrected" in output
    # (The play's own diff output shows the secret: this playbook writes it without diff: false.)
    for path in run_dir.iterdir():
        assert CANARY not in path.read_text(), path


def test_a_second_run_finds_no_drift_and_check_mode_says_nothing_changed(tmp_path):
    work, reports = drifted_host(tmp_path), tmp_path / "reports"
    playbook = write_playbook(tmp_path, work)
    run(playbook, reports, drifted=True)
    output = run(playbook, reports, True, 50, "--check")
    _run_dir, summary, host = latest(reports)
    assert summary["drifted_hosts"] == []
    assert summary["check_only"] is True
    assert host["drifted"] == []
    assert host["corrected"] == []
    assert "localhost: no drift" in output
    assert len([name for name in os.listdir(reports / "drift") if name != "latest"]) == 2


def test_old_runs_are_pruned_and_nothing_is_written_when_the_callback_is_off(tmp_path):
    work, reports = drifted_host(tmp_path), tmp_path / "reports"
    playbook = write_playbook(tmp_path, work)
    for count in range(3):
        run(playbook, reports, True, 2, drifted=count == 0)
    assert len([name for name in os.listdir(reports / "drift") if name != "latest"]) == 2

    quiet = tmp_path / "quiet"
    status, output = run_local(
        playbook, env={"STEADYOPS_REPORT_DIR": str(quiet)}, unset=["ANSIBLE_CALLBACKS_ENABLED"], cwd=str(tmp_path)
    )
    assert not quiet.exists()
    assert "DRIFT REPORT" not in output
    assert status != 0, "without the report, drift.yml's verdict cannot pass"


def test_a_host_the_report_does_not_cover_fails_the_verdict(tmp_path):
    # What a callback that cannot record results leaves (ansible-core 2.16-2.18 before it read their
    # TaskResult): a summary without the host. The run must fail it, never pass it as "no drift".
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    summary = {"hosts": {}, "drifted_hosts": [], "check_only": True}
    (run_dir / "summary.json").write_text(json.dumps(summary))
    playbook = tmp_path / "verdict.yml"
    play = {"hosts": "localhost", "gather_facts": False, "tasks": [{"ansible.builtin.include_tasks": str(VERDICT)}]}
    playbook.write_text(yaml.safe_dump([play]))
    status, output = run_local(
        playbook, env={"STEADYOPS_DRIFT_RUN": str(run_dir)}, unset=["ANSIBLE_CALLBACKS_ENABLED"], cwd=str(tmp_path)
    )
    assert status == 2, output
    assert "The drift report has no results for localhost" in output

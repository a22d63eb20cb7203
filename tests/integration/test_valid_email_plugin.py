"""The valid_email test plugin in a real play on the controller."""

import os
import subprocess
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_play(tmp_path, tasks):
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n" + textwrap.indent(textwrap.dedent(tasks), "    ")
    )
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"), ANSIBLE_NOCOLOR="1")
    return subprocess.run(
        ["ansible-playbook", "-i", "localhost,", "-c", "local", str(playbook)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_policies_in_asserts(tmp_path):
    result = run_play(
        tmp_path,
        """
        - name: The outage address under each policy
          ansible.builtin.assert:
            that:
              - "'test@gmail.test' is steadyops.stack.valid_email(policy='staging')"
              - "'test@gmail.test' is not steadyops.stack.valid_email(policy='production')"
              - "'test@gmail.test' is not steadyops.stack.valid_email"
              - "'ops@printer.local' is not steadyops.stack.valid_email(policy='qa', policies=qa_only_test)"
          vars:
            qa_only_test: {qa: {allowed_special_use: [test]}}
        """,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All assertions passed" in result.stdout


def test_unknown_policy_is_explained(tmp_path):
    result = run_play(
        tmp_path,
        """
        - name: A typo in the policy name
          ansible.builtin.assert:
            that: "'a@example.com' is steadyops.stack.valid_email(policy='prod')"
        """,
    )
    assert result.returncode != 0
    assert "valid_email: unknown policy 'prod'; use one of: production, staging" in result.stdout + result.stderr

"""email_validate on a Python without email-validator: the failure gives the pip command for that very Python.

The collection's playbooks run the module on the controller, where the Python
that runs it is easy to mistake for another; the message names it. The
Python here is a bare virtualenv (standard library only) made by the test,
so the library is missing for real.
"""

import subprocess
import sys
import textwrap

from support.playbook import run_local


def test_the_failure_names_the_pip_command_for_the_python_that_ran_it(tmp_path):
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    python = bare / "bin" / "python"
    playbook = tmp_path / "check.yml"
    playbook.write_text(
        textwrap.dedent(
            """\
            - hosts: localhost
              gather_facts: false
              tasks:
                - steadyops.stack.email_validate:
                    emails: [ops@example.com]
                    policy: production
            """
        )
    )
    code, output = run_local(playbook, "-e", "ansible_python_interpreter=%s" % python)
    assert code == 2, output
    assert "%s -m pip install 'email-validator>=2.3'" % python in output, output

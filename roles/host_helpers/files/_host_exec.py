# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""How the hosts' helpers run a command for the collection's shared code (_systemd.use(run)).

On the controller side the modules hand in AnsibleModule.run_command instead;
the shared code runs no process itself.
"""

import os
import subprocess


def run(argv, timeout):
    """(returncode, stdout, stderr) of ARGV in the C locale; returncode None when it could not run."""
    try:
        completed = subprocess.run(
            argv, capture_output=True, text=True, check=False, timeout=timeout, env=dict(os.environ, LC_ALL="C")
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return None, "", str(exc)
    return completed.returncode, completed.stdout, completed.stderr

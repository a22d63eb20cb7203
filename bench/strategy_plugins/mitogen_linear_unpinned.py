"""Mitogen's linear strategy without its CPU pinning, for bench/fleet.py's comparison.

Not the checkout's default (docs/DESIGN.md, "Speed": under it the suite found
async docker_container jobs that never finish and ssh options it does not
apply, and showed that the bootstrap role's lockout guard knew too few names
for an SSH connection, since fixed). Mitogen keeps one Python per host for the whole run and
sends each module to it, instead of starting a Python per task. It also pins
Ansible's processes to CPUs: on a machine with two or three, one CPU is kept
for its connection multiplexer and the top-level process, every worker and
every command they start are pinned to another, so a run on many hosts does
all of Ansible's side on one CPU. A deploy to five lab hosts on this
project's two-core machines took 124 s pinned, 79 s unpinned.
"""

from ansible.errors import AnsibleError

try:
    import ansible_mitogen.affinity
    import ansible_mitogen.loaders
    import ansible_mitogen.strategy
except ImportError as error:
    raise AnsibleError(
        "The strategy mitogen_linear_unpinned needs the mitogen package (%s): run `make setup`, which "
        "installs requirements.txt, or pip install the mitogen version pinned there." % error
    ) from error

# ansible_mitogen.process and ansible_mitogen.strategy read this name each time they
# place a process; the base Policy places none.
ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()

_Linear = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)


class StrategyModule(ansible_mitogen.strategy.StrategyMixin, _Linear):
    """Mitogen's mitogen_linear, with no process pinned to a CPU."""

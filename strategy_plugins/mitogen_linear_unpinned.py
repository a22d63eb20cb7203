"""Mitogen's linear strategy without its CPU pinning: this checkout's default (ansible.cfg).

Mitogen keeps one Python per host for the whole run and sends each module to
it, instead of starting a Python per task (docs/DESIGN.md, "Speed"). It also
pins Ansible's processes to CPUs: on a machine with two or three, one CPU is
kept for its connection multiplexer and the top-level process, every worker
and every command they start are pinned to another, so a run on many hosts
does all of Ansible's side of the work on one CPU. A deploy to five lab
hosts on this project's two-core machines took 124 s pinned, 79 s unpinned.
Unpinned, the kernel places these processes as it does any others.
"""

from ansible.errors import AnsibleError

try:
    import ansible_mitogen.affinity
    import ansible_mitogen.loaders
    import ansible_mitogen.strategy
except ImportError as error:
    raise AnsibleError(
        "The strategy mitogen_linear_unpinned needs the mitogen package (%s): run `make setup`, which "
        "installs requirements.txt, or pip install the mitogen version pinned there; or run with "
        "ANSIBLE_STRATEGY=linear." % error
    ) from error

# ansible_mitogen.process and ansible_mitogen.strategy read this name each time they
# place a process; the base Policy places none.
ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()

_Linear = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)


class StrategyModule(ansible_mitogen.strategy.StrategyMixin, _Linear):
    """Mitogen's mitogen_linear, with no process pinned to a CPU."""

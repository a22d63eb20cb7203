"""The health check's cron fields for every interval up to a day: each runs evenly every N minutes, or is refused."""

import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from support.playbook import ROOT, run_local

try:
    from ansible.template import trust_as_template
except ImportError:  # before ansible-core 2.19 every string is a template

    def trust_as_template(value):
        return value


DAY = 24 * 60


def cron_step_values(field, low, high):
    """The values a cron field of `*` or `*/N` (crontab(5)) selects between LOW and HIGH; a number selects itself."""
    if field == "*":
        return list(range(low, high + 1))
    if field.startswith("*/"):
        return list(range(low, high + 1, int(field[2:])))
    return [int(field)]


def run_minutes(fields):
    """The minutes of a day cron runs a job with these minute and hour fields."""
    hours = cron_step_values(fields["hour"], 0, 23)
    return [hour * 60 + minute for hour in hours for minute in cron_step_values(fields["minute"], 0, 59)]


def evenly_every(minutes, interval):
    """Whether runs at MINUTES repeat every INTERVAL minutes, day after day."""
    gaps = [later - earlier for earlier, later in zip(minutes, [*minutes[1:], minutes[0] + DAY], strict=True)]
    return bool(minutes) and set(gaps) == {interval}


def cron_fields_by_interval():
    """The role's own cron fields for every interval from 1 to a day, templated by Ansible's own engine."""
    expression = yaml.safe_load((ROOT / "roles" / "health_check" / "vars" / "main.yml").read_text())[
        "__health_check_cron"
    ]
    return {
        interval: Templar(loader=DataLoader(), variables={"health_check_interval_minutes": interval}).template(
            trust_as_template(expression)
        )
        for interval in range(1, DAY + 1)
    }


def test_every_interval_cron_is_given_runs_evenly_and_the_rest_are_exactly_those_cron_cannot_keep():
    fields = cron_fields_by_interval()
    assert sorted(fields) == list(range(1, DAY + 1))
    kept = {interval for interval, value in fields.items() if value}
    for interval in kept:
        assert evenly_every(run_minutes(fields[interval]), interval), (interval, fields[interval])
    # Refused only where no minute and hour step pair could keep it.
    keepable = set()
    for minute in ["*", "0"] + ["*/%d" % n for n in range(2, 60)]:
        for hour in ["*", "0"] + ["*/%d" % n for n in range(2, 24)]:
            minutes = run_minutes({"minute": minute, "hour": hour})
            gaps = {later - earlier for earlier, later in zip(minutes, [*minutes[1:], minutes[0] + DAY], strict=True)}
            if len(gaps) == 1:
                keepable |= gaps
    assert kept == keepable


def test_an_interval_cron_cannot_keep_is_refused_before_anything_changes_and_the_timer_takes_it(tmp_path):
    playbook = tmp_path / "preflight.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "The health check's preflight",
                    "hosts": "localhost",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "name": "Check",
                            "ansible.builtin.include_role": {
                                "name": "steadyops.stack.health_check",
                                "tasks_from": "preflight",
                            },
                            "vars": {"stack_services": [], "stack_app_user": "tmsapp"},
                        }
                    ],
                }
            ]
        )
    )
    status, output = run_local(playbook, "-e", "health_check_interval_minutes=90")
    assert status != 0
    assert "health_check_interval_minutes is 90" in output
    status, output = run_local(playbook, "-e", "health_check_interval_minutes=90", "-e", "health_check_scheduler=timer")
    assert status == 0, output[-3000:]

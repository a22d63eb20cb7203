"""The status_page role's page template rendered by ansible-playbook: what a host says is escaped, never markup."""

from pathlib import Path

import yaml
from ansible_collections.steadyops.stack.plugins.filter.status_page import status_page
from support.playbook import run_local

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = '<img src=x onerror="alert(1)">next-server'


def test_an_orphans_command_line_is_escaped(tmp_path):
    look = {
        "services": {
            "tms-frontend": {
                "unit": "tms-frontend@3000.service",
                "active": "active",
                "healthy": False,
                "port": {"port": 3000, "owners_in_unit": [], "orphans": [{"pid": 77, "cmdline": HOSTILE}]},
            }
        },
        "findings": [{"level": "CRITICAL", "check": "tms-frontend:port", "text": "held by " + HOSTILE}],
    }
    drift = {
        "run": "20261129T131523Z-24828",
        "drifted": [{"role": "steadyops.stack.env_file", "task": "Keep each existing env file private",
                     "item": "tms-api", "summary": "mode 0644 -> 0600"}],
    }  # fmt: skip
    # An address in the users table is anyone's to write: the audit shows it, escaped.
    maintenance = {
        "finished": "now",
        "email_audit": {"policy": "staging", "totals": {"checked": 1}, "invalid": {HOSTILE + "@x": "invalid_syntax"}},
    }
    queues = [{"table": "jobs", "states_before": {"pending": 1}, "dead_letters_before": 2, "rescued": {}}]
    page = status_page([{"name": "staging-1", "look": look, "drift": drift, "maintenance": maintenance,
                         "queues": queues}])  # fmt: skip
    playbook = tmp_path / "render.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Render",
                    "hosts": "localhost",
                    "gather_facts": False,
                    "vars": {"status_page_model": page, "status_page_generated": "now"},
                    "tasks": [
                        {
                            "name": "Write the page",
                            "ansible.builtin.template": {
                                "src": str(ROOT / "roles/status_page/templates/status.html.j2"),
                                "dest": str(tmp_path / "index.html"),
                                "mode": "0600",
                            },
                        }
                    ],
                }
            ]
        )
    )
    status, output = run_local(playbook)
    assert status == 0, output

    html = (tmp_path / "index.html").read_text()
    assert "<img" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;next-server" in html
    assert 'data-service="tms-frontend" data-level="failing"' in html
    assert "Keep each existing env file private (tms-api): mode 0644 -&gt; 0600" in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;next-server@x</code>: invalid_syntax" in html
    assert 'data-queue="jobs" data-level="warning"' in html
    assert "2 in the dead-letter table" in html

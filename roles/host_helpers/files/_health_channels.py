"""Where the health check's alerts and numbers go besides mail: a webhook, and a Prometheus textfile.

A webhook gets one JSON POST per alert, in the shape its receiver accepts:
`slack` ({"text": ...}, what Slack's and Mattermost's incoming webhooks take)
or `alertmanager` (a list of alerts as Alertmanager's API v2 takes them at
/api/v2/alerts: labels, annotations, startsAt, and endsAt once resolved). The
URL is a secret (a Slack webhook's holds its token): results and errors name
only its scheme and host. The textfile is node_exporter's textfile collector
format, written whole and renamed into place, so the collector never reads half
a file. Standard library only: it runs on the hosts beside steadyops_health.py.
"""

import json
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request

WEBHOOK_FORMATS = ("slack", "alertmanager")


def webhook_payload(kind, alert):
    """The JSON body for a receiver of KIND. ALERT: subject, body, incident, host, resolved, at (epoch seconds)."""
    if kind == "slack":
        return {"text": "*%s*\n%s" % (alert["subject"], alert["body"])}
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(alert["at"]))
    entry = {
        "labels": {
            "alertname": "SteadyopsHostCheck" if alert["incident"].startswith("host:") else "SteadyopsServiceDown",
            "incident": alert["incident"],
            "instance": alert["host"],
            "severity": "critical",
        },
        "annotations": {"summary": alert["subject"], "description": alert["body"]},
    }
    # Alertmanager takes an alert with endsAt in the past as resolved; a firing one carries no end.
    entry["endsAt" if alert["resolved"] else "startsAt"] = at
    return [entry]


def where(url):
    """The URL as results may show it: scheme and host, never the path or query that carry a token."""
    parts = urllib.parse.urlsplit(url)
    return "%s://%s" % (parts.scheme, parts.hostname or "")


def post_webhook(hook, alert, timeout=10):
    """POST the alert to the webhook; "sent (HTTP n) to <where>" or "failed: ..." (never raises)."""
    url = hook["url"]
    data = json.dumps(webhook_payload(hook.get("format", "slack"), alert)).encode("utf-8")
    # http(s) only: the config's rules refuse any other scheme before a run.
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)  # noqa: S310
    context = None
    if url.startswith("https:"):
        # The receiver's certificate and name are checked before the alert (and the URL's token) goes out.
        context = ssl.create_default_context(cafile=hook.get("ca_file") or None)
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:  # noqa: S310 - http(s) only, checked
            return "sent (HTTP %d) to %s" % (response.status, where(url))
    except urllib.error.HTTPError as exc:
        return "failed: %s answered HTTP %d" % (where(url), exc.code)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return "failed: %s: %s" % (where(url), reason)


def _label(value):
    """A label value as the text format escapes it: backslash, double quote and line feed."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def metrics(status, deploying):
    """The textfile's lines for a run's STATUS (status_of's), one HELP and TYPE per family."""
    lines = []

    def family(name, help_text, samples):
        lines.append("# HELP %s %s" % (name, help_text))
        lines.append("# TYPE %s gauge" % name)
        for labels, value in samples:
            text = ",".join('%s="%s"' % (key, _label(val)) for key, val in labels)
            lines.append("%s{%s} %s" % (name, text, value) if text else "%s %s" % (name, value))

    services = status.get("services", {})
    family(
        "steadyops_service_healthy",
        "Whether the service passed every check of the last health check run (1) or not (0).",
        [
            ((("service", name), ("unit", report.get("unit", ""))), int(bool(report.get("healthy"))))
            for name, report in sorted(services.items())
        ],
    )
    restarts = status.get("restarts", {})
    family(
        "steadyops_service_restarts",
        "Restarts by the health check that count against its restart budget now.",
        [((("service", name),), len(restarts.get(name, []))) for name in sorted(services)],
    )
    counts = {"OK": 0, "WARNING": 0, "CRITICAL": 0}
    for finding in status.get("findings", []):
        counts[finding["level"]] = counts.get(finding["level"], 0) + 1
    family(
        "steadyops_health_findings",
        "Findings of the last run, by level.",
        [((("level", level),), counts[level]) for level in sorted(counts)],
    )
    family(
        "steadyops_health_status",
        "The last run's status: 0 OK, 1 WARNING, 2 CRITICAL.",
        [((), status.get("exit_code", 0))],
    )
    family(
        "steadyops_deploy_in_progress",
        "Whether a deploy held its lock during the last run.",
        [((), int(bool(deploying)))],
    )
    family(
        "steadyops_health_last_run_timestamp_seconds",
        "When the last run ended, in seconds since the epoch.",
        [((), int(time.time()))],
    )
    return "\n".join(lines) + "\n"


def write_textfile(path, status, deploying):
    """Write the metrics to PATH whole: a temporary file beside it (not *.prom, so never collected), renamed."""
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(metrics(status, deploying))
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)

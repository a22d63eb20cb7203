# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the health check's config file must hold, checked before it is used.

The health check program runs unattended from cron or a timer; a value of the
wrong type (an address list that is a string, a count that is text) would
pass every run until the one that alerts, and crash it there. The role checks
the config it is about to write with these rules at preflight, the program
checks the file with them when the role installs it (`--check-config`, as the
template's validate step) and again at the start of every run, so a bad file
fails at once and loudly. Standard library only: the program imports this on
the hosts. Messages name the field and never show the SMTP password.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import numbers

TOP_LEVEL = (
    "services", "app_root", "restart", "restart_budget", "restart_settle_seconds", "free_port", "thresholds",
    "disk_paths", "smtp", "webhook", "textfile", "state_dir", "status_file",
)  # fmt: skip
SERVICE_FIELDS = ("name", "port", "health", "stray_patterns", "stray_users", "gapless_ports")
HEALTH_FIELDS = ("url", "status", "timeout")
SMTP_FIELDS = ("host", "port", "starttls", "ca_file", "user", "password", "from", "to")
WEBHOOK_FIELDS = ("url", "format", "ca_file")
# The receivers a webhook's body is shaped for (the program's _health_channels.WEBHOOK_FORMATS).
WEBHOOK_FORMATS = ("slack", "alertmanager")
# A Slack webhook's URL holds its token.
SECRET_FIELDS = ("smtp.password", "webhook.url")


def _shown(where, value):
    return "********" if where in SECRET_FIELDS else repr(value)


def _integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class _Checker:
    def __init__(self):
        self.found = []

    def refuse(self, where, value, wanted):
        self.found.append("%s is %s: %s" % (where, _shown(where, value), wanted))

    def keys(self, where, mapping, allowed):
        if not isinstance(mapping, dict):
            self.refuse(where, mapping, "must be a mapping")
            return False
        for key in sorted(set(mapping) - set(allowed), key=str):
            self.found.append("%s.%s is not a setting the health check knows (%s)" % (where, key, ", ".join(allowed)))
        return True

    def text(self, where, value, empty=True):
        if not isinstance(value, str):
            self.refuse(where, value, "must be text")
        elif not empty and not value:
            self.refuse(where, value, "must not be empty")

    def path(self, where, value, empty=False):
        if not isinstance(value, str) or not (value.startswith("/") or (empty and value == "")):
            self.refuse(where, value, "must be an absolute path" + (" or empty" if empty else ""))

    def flag(self, where, value):
        if not isinstance(value, bool):
            self.refuse(where, value, "must be true or false")

    def integer(self, where, value, low, high=None):
        if not _integer(value) or value < low or (high is not None and value > high):
            self.refuse(where, value, "must be a whole number from %d%s" % (low, " to %d" % high if high else " up"))

    def number(self, where, value, low, high=None):
        if not _number(value) or value < low or (high is not None and value > high):
            self.refuse(where, value, "must be a number from %g%s" % (low, " to %g" % high if high else " up"))

    def items(self, where, value, each, empty=True):
        if not isinstance(value, list):
            self.refuse(where, value, "must be a list")
            return
        if not empty and not value:
            self.refuse(where, value, "must not be empty")
        for index, item in enumerate(value):
            each("%s[%d]" % (where, index), item)


def _service(check, where, service):
    if not check.keys(where, service, SERVICE_FIELDS):
        return
    check.text(where + ".name", service.get("name"), empty=False)
    if service.get("port") is not None:
        check.integer(where + ".port", service["port"], 1, 65535)
    health = service.get("health", {})
    if check.keys(where + ".health", health, HEALTH_FIELDS):
        if "url" in health:
            check.text(where + ".health.url", health["url"])
        if "status" in health:
            check.integer(where + ".health.status", health["status"], 100, 599)
        if "timeout" in health:
            check.number(where + ".health.timeout", health["timeout"], 0.001)
    check.items(where + ".stray_patterns", service.get("stray_patterns", []), check.text)
    check.items(where + ".stray_users", service.get("stray_users", []), check.text)
    check.items(where + ".gapless_ports", service.get("gapless_ports", []), lambda w, v: check.integer(w, v, 1, 65535))


def _webhook(check, webhook):
    url = webhook.get("url", "")
    check.text("webhook.url", url)
    if isinstance(url, str) and url:
        scheme, _sep, rest = url.partition("://")
        host = rest.split("/", 1)[0].rsplit("@", 1)[-1].rsplit(":", 1)[0].strip("[]")
        if scheme not in ("https", "http") or not host or any(ord(c) < 33 for c in url):
            check.refuse("webhook.url", url, "an http(s) URL with a host and no spaces or control characters")
        elif scheme == "http" and host not in ("localhost", "127.0.0.1", "::1"):
            check.refuse(
                "webhook.url",
                url,
                "plain http only to this host (localhost): the alert and the URL's token would go unencrypted",
            )
    if webhook.get("format", "slack") not in WEBHOOK_FORMATS:
        check.refuse("webhook.format", webhook.get("format"), "one of " + ", ".join(WEBHOOK_FORMATS))
    check.path("webhook.ca_file", webhook.get("ca_file", ""), empty=True)


def config_problems(config):
    """Sentences naming each setting of a health check config that the program cannot use; [] when usable."""
    check = _Checker()
    if not check.keys("config", config, TOP_LEVEL):
        return check.found
    check.items("services", config.get("services", []), lambda where, service: _service(check, where, service))
    check.path("app_root", config.get("app_root", ""), empty=True)
    check.flag("restart", config.get("restart", True))
    budget = config.get("restart_budget", {"max_restarts": 3, "window_runs": 12})
    if check.keys("restart_budget", budget, ("max_restarts", "window_runs")):
        check.integer("restart_budget.max_restarts", budget.get("max_restarts"), 0)
        check.integer("restart_budget.window_runs", budget.get("window_runs"), 1)
    check.number("restart_settle_seconds", config.get("restart_settle_seconds", 30), 0)
    check.flag("free_port", config.get("free_port", False))
    thresholds = config.get("thresholds", {})
    if check.keys("thresholds", thresholds, ("disk_percent", "memory_percent", "zombies")):
        check.number("thresholds.disk_percent", thresholds.get("disk_percent", 90), 0, 100)
        check.number("thresholds.memory_percent", thresholds.get("memory_percent", 90), 0, 100)
        check.integer("thresholds.zombies", thresholds.get("zombies", 5), 0)
    check.items("disk_paths", config.get("disk_paths", ["/"]), check.path, empty=False)
    smtp = config.get("smtp", {})
    if check.keys("smtp", smtp, SMTP_FIELDS):
        for field in ("host", "user", "password", "from"):
            check.text("smtp." + field, smtp.get(field, ""))
        check.path("smtp.ca_file", smtp.get("ca_file", ""), empty=True)
        check.integer("smtp.port", smtp.get("port", 25), 1, 65535)
        check.flag("smtp.starttls", smtp.get("starttls", False))
        check.items("smtp.to", smtp.get("to", []), lambda where, value: check.text(where, value, empty=False))
    webhook = config.get("webhook", {})
    if check.keys("webhook", webhook, WEBHOOK_FIELDS):
        _webhook(check, webhook)
    if config.get("textfile", ""):
        check.path("textfile", config["textfile"])
        if isinstance(config["textfile"], str) and not config["textfile"].endswith(".prom"):
            check.refuse("textfile", config["textfile"], "node_exporter's textfile collector reads only *.prom files")
    check.path("state_dir", config.get("state_dir", "/var/lib/steadyops/health"))
    if "status_file" in config:
        check.path("status_file", config["status_file"])
    return check.found

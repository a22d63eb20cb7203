"""Copy queue_purge's options into the maintenance role: its argument spec and its one queue_purge task.

An entry of `stack_queues` (the role's `maintenance_queues`) takes every option
of the queue_purge module, and nothing else: the role's argument spec lists
them (so a misspelt key is refused before anything runs) and
roles/maintenance/tasks/queue.yml passes each one through. Both are generated
here from the module's own DOCUMENTATION (with its doc fragment), so a new
module option reaches users without a hand edit. The role decides a few
options itself (ROLE_DECIDES): where it connects, and the environment's
retention for the queues that do not set their own. `--check` fails when a
copy differs, which the lint stage runs.

    python scripts/sync_queue_options.py [--check]
"""

import argparse
import ast
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "plugins" / "modules" / "queue_purge.py"
FRAGMENT = ROOT / "plugins" / "doc_fragments" / "postgres.py"
SPEC = ROOT / "roles" / "maintenance" / "meta" / "argument_specs.yml"
TASK = ROOT / "roles" / "maintenance" / "tasks" / "queue.yml"
ENTRY = "__maintenance_queue"

BEGIN = "# BEGIN queue_purge options (scripts/sync_queue_options.py; edit plugins/modules/queue_purge.py)\n"
END = "# END queue_purge options\n"
SPEC_BEGIN, SPEC_END = " " * 8 + BEGIN, " " * 8 + END
TASK_BEGIN, TASK_END = " " * 4 + BEGIN, " " * 4 + END

# The options the role fills in when an entry leaves them out, and how (the
# task's vars __maintenance_counting and __maintenance_dead_letter_days).
ROLE_DECIDES = {
    "login_unix_socket": (
        "{{ %s.login_unix_socket | default(omit if %s.login_host is defined else maintenance_unix_socket) }}"
        % (ENTRY, ENTRY),
        "Unset, and O(maintenance_queues[].login_host) unset too: C(maintenance_unix_socket).",
    ),
    "login_db": (
        "{{ %s.login_db | default(maintenance_database) }}" % ENTRY,
        "Unset: C(maintenance_database), the stack's database.",
    ),
    "retention": (
        "{{ [] if __maintenance_counting else %s.retention | default(maintenance_queue_retention) }}" % ENTRY,
        "Unset: C(maintenance_queue_retention), the environment's. Nothing is purged in the C(count) mode.",
    ),
    "dead_letter_retention_days": (
        "{{ omit if __maintenance_counting or __maintenance_no_dead_letter_days else __maintenance_dead_letter_days }}",
        "Unset: C(maintenance_dead_letter_retention_days), the environment's.",
    ),
    "vacuum": (
        "{{ 'never' if __maintenance_counting else %s.vacuum | default(omit) }}" % ENTRY,
        "C(never) in the C(count) mode.",
    ),
}


class IndentedDumper(yaml.SafeDumper):
    """Sequences indented under their key, as yamllint wants them."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _documentation(path, owner=None):
    """The DOCUMENTATION string of a module file or of a doc fragment class, parsed."""
    tree = ast.parse(path.read_text())
    nodes = tree.body
    if owner:
        nodes = next(node.body for node in tree.body if isinstance(node, ast.ClassDef) and node.name == owner)
    for node in nodes:
        names = [target.id for target in getattr(node, "targets", []) if isinstance(target, ast.Name)]
        if names == ["DOCUMENTATION"]:
            return yaml.safe_load(node.value.value)
    raise SystemExit("%s has no DOCUMENTATION" % path)


def module_options():
    """queue_purge's options as its documentation gives them, the login options of its fragment included."""
    options = dict(_documentation(FRAGMENT, "ModuleDocFragment")["options"])
    options.update(_documentation(MODULE)["options"])
    return options


OPTION_MARKUP = re.compile(r"O\(([a-z_]+)")


def _as_entry_markup(text):
    """Markup that names a module option names the entry's option; a return value is only a code word here."""
    text = OPTION_MARKUP.sub(lambda m: "O(maintenance_queues[].%s" % m.group(1), text)
    return re.sub(r"RV\(([^)]*)\)", r"C(\1)", text)


def _description(option, name, extra=None):
    lines = option["description"]
    lines = [lines] if isinstance(lines, str) else list(lines)
    lines = [_as_entry_markup(line) for line in lines]
    if "default" in option and not extra:
        shown = yaml.safe_dump(option["default"], default_flow_style=True).strip().removesuffix("\n...")
        lines.append("Unset: queue_purge's default, %s." % ("empty" if option["default"] == "" else "V(%s)" % shown))
    if extra:
        lines.append(extra)
    return lines


def entry_option(name, option, extra=None):
    """One option of a stack_queues entry: the module's, with no default (the module or the role decides)."""
    entry = {"description": _description(option, name, extra), "type": option.get("type", "str")}
    # Role argument specs take no aliases: an entry names each option by its own name.
    for key in ("elements", "choices"):
        if key in option:
            entry[key] = option[key]
    if option.get("required"):
        entry["required"] = True
    if "password" in name:
        entry["no_log"] = True
    if "suboptions" in option:
        entry["options"] = {
            sub: entry_option(sub, value) | ({"required": True} if value.get("required") else {})
            for sub, value in option["suboptions"].items()
        }
    return entry


def rendered_spec(options):
    spec = {
        name: entry_option(name, option, ROLE_DECIDES.get(name, (None, None))[1]) for name, option in options.items()
    }
    body = yaml.dump({"options": spec}, Dumper=IndentedDumper, sort_keys=False, width=110, allow_unicode=True)
    return "".join("        " + line + "\n" if line else "\n" for line in body.splitlines())


def rendered_task(options):
    lines = []
    for name in options:
        value = ROLE_DECIDES[name][0] if name in ROLE_DECIDES else "{{ %s.%s | default(omit) }}" % (ENTRY, name)
        if '"' in value or "\\" in value:
            raise SystemExit("%s: an expression with a double quote or backslash needs YAML escaping" % name)
        lines.append('    %s: "%s"\n' % (name, value))
    return "".join(lines)


def synced(path, begin, end, block):
    text = path.read_text()
    if begin not in text or end not in text:
        raise SystemExit("%s has no queue_purge option markers" % path)
    head, rest = text.split(begin, 1)
    _old, tail = rest.split(end, 1)
    return head + begin + block + end + tail


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a copy differs, changing nothing")
    args = parser.parse_args()
    options = module_options()
    stale = []
    for path, begin, end, block in (
        (SPEC, SPEC_BEGIN, SPEC_END, rendered_spec(options)),
        (TASK, TASK_BEGIN, TASK_END, rendered_task(options)),
    ):
        new = synced(path, begin, end, block)
        if new != path.read_text():
            stale.append(path.relative_to(ROOT))
            if not args.check:
                path.write_text(new)
    if args.check and stale:
        stale_files = ", ".join(map(str, stale))
        sys.exit("queue_purge's options changed: run python scripts/sync_queue_options.py (stale: %s)" % stale_files)
    if not args.check:
        print("synced" if stale else "in sync", *stale)


if __name__ == "__main__":
    main()

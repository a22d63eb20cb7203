"""Copy the service model (plugins/module_utils/_service_model.py) into the roles' argument specs.

Each role that reads `stack_services` has an option `<role>_services` whose
element options are the model. They are written once, in
plugins/module_utils/_service_model.py, and copied here; `--check` fails when
a copy differs, which the lint stage runs.

    python scripts/sync_service_model.py [--check]
"""

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".cache" / "collections"))

from ansible_collections.steadyops.stack.plugins.module_utils import _service_model  # noqa: E402

BEGIN = "        # BEGIN service model (scripts/sync_service_model.py; edit plugins/module_utils/_service_model.py)\n"
END = "        # END service model\n"


class IndentedDumper(yaml.SafeDumper):
    """Sequences indented under their key, as yamllint wants them."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def rendered_model():
    body = yaml.dump(_service_model.model(), Dumper=IndentedDumper, sort_keys=False, width=110, allow_unicode=True)
    return "".join("          " + line + "\n" if line else "\n" for line in body.splitlines())


def synced(text, model_block, path):
    if BEGIN not in text or END not in text:
        raise SystemExit("%s has no service model markers; add them under the services option" % path)
    head, rest = text.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    return head + BEGIN + "        options:\n" + model_block + END + tail


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a copy differs; change nothing")
    args = parser.parse_args()
    model_block = rendered_model()
    stale = []
    # Every role whose argument spec carries the markers reads the model.
    for path in sorted((ROOT / "roles").glob("*/meta/argument_specs.yml")):
        text = path.read_text()
        if BEGIN not in text:
            continue
        new = synced(text, model_block, path)
        if new != text:
            stale.append(str(path.relative_to(ROOT)))
            if not args.check:
                path.write_text(new)
    if stale and args.check:
        sys.exit("service model copies are stale in: %s; run: python scripts/sync_service_model.py" % ", ".join(stale))
    print("service model: %s" % ("updated " + ", ".join(stale) if stale else "in sync"))


if __name__ == "__main__":
    main()

"""What host_helpers installs is whole: every file it ships imports only the standard library and files it ships."""

import ast
import sys

import pytest
from support import host_helpers

SHIPPED = {name: source for name, (source, _mode) in host_helpers.files().items()}
COLLECTION_UTILS = "ansible_collections.steadyops.stack.plugins.module_utils"
# Imports a shipped file makes only inside a function the controller alone calls: _service_model.model()
# parses the model for the filters and scripts/sync_service_model.py; hosts use its name and port rules.
CONTROLLER_ONLY = {"_service_model.py": ["yaml"]}


def _catches_import_error(handler):
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(name, ast.Name) and name.id in ("ImportError", "ModuleNotFoundError") for name in names)


def _imported(node):
    """(module, names) pairs an import node brings in; names are what `from module import` takes."""
    if isinstance(node, ast.Import):
        return [(alias.name, []) for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0:
        return [(node.module, [alias.name for alias in node.names])]
    return []


def missing_on_hosts(source, shipped):
    """What SOURCE imports that a host would not have: neither the standard library nor a file in SHIPPED.

    An import of the collection's own module_utils counts by the files it names (on a host the same names
    are plain modules beside the program); any other non-standard import must sit in a try whose
    ImportError handler stands in for it.
    """
    shipped_modules = {name[: -len(".py")] for name in shipped}
    tree = ast.parse(source)
    guarded = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(_catches_import_error(handler) for handler in node.handlers):
            guarded.update(id(child) for statement in node.body for child in ast.walk(statement))
    missing = []
    for node in ast.walk(tree):
        for module, names in _imported(node):
            root = module.split(".")[0]
            if root == "__future__" or root in sys.stdlib_module_names or module in shipped_modules:
                continue
            if module == COLLECTION_UTILS:
                missing.extend(name for name in names if name not in shipped_modules)
            elif module.startswith(COLLECTION_UTILS + "."):
                if module.rsplit(".", 1)[1] not in shipped_modules:
                    missing.append(module.rsplit(".", 1)[1])
            elif id(node) not in guarded:
                missing.append(module)
    return sorted(set(missing))


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_a_shipped_file_imports_only_what_hosts_get(name):
    assert missing_on_hosts(SHIPPED[name].read_text(), SHIPPED) == CONTROLLER_ONLY.get(name, [])


@pytest.mark.parametrize(
    ("source", "missing"),
    [
        ("import _pg_queue\n", ["_pg_queue"]),
        ("from %s import _procfs, _email_policy\n" % COLLECTION_UTILS, ["_email_policy"]),
        ("from %s._pg_connect import connect\n" % COLLECTION_UTILS, ["_pg_connect"]),
        ("import psycopg\n", ["psycopg"]),
        ("try:\n    import psycopg\nexcept ImportError:\n    psycopg = None\n", []),
        ("import json, _procfs\nfrom os import path\n", []),
    ],
)
def test_the_check_finds_what_a_host_would_miss(source, missing):
    assert missing_on_hosts(source, SHIPPED) == missing

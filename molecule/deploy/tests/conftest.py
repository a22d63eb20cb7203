"""The deploy scenario's test files run in the order of a host's life, not of their names.

First a second deploy of the same version, which must change nothing. The drift
tests need hosts as converge left them (freshly deployed), and they leave them
corrected; maintenance follows on hosts as a deploy left them; the status page
reads what the drift and maintenance runs wrote; the outages are replayed on
hosts that serve the same release; the per-host checks follow; the new versions
come last, because they change what serves. Sharing the scenario's hosts saves a
second provision and deploy.
"""

ORDER = [
    "test_idempotence.py",
    "test_drift.py",
    "test_maintenance.py",
    "test_status_page.py",
    "test_incidents.py",
    "test_stack_serves.py",
    "test_versions.py",
]


def pytest_collection_modifyitems(items):
    def place(item):
        name = item.path.name
        return ORDER.index(name) if name in ORDER else len(ORDER)

    items.sort(key=place)  # a stable sort: within a file, pytest's own order stays

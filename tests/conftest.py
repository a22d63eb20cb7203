"""Shared pytest setup. The collection is imported from .cache/collections (make setup links it)."""

import sys
from pathlib import Path

COLLECTIONS = Path(__file__).resolve().parents[1] / ".cache" / "collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

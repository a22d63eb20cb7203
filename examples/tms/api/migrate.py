"""Apply the SQL files in migrations/ that the database has not seen, in name order.

Each file runs in its own transaction and is recorded in schema_migrations,
so a second run applies nothing. A failing file stops the run with exit 1
and leaves the database as the previous file left it.
"""

import os
import sys
from pathlib import Path

import psycopg

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def main():
    applied = 0
    with psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=5) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz)")
        conn.commit()
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for path in sorted(MIGRATIONS.glob("*.sql")):
            if path.stem in done:
                continue
            try:
                with conn.transaction():
                    conn.execute(path.read_text())
                    conn.execute("INSERT INTO schema_migrations VALUES (%s, now())", (path.stem,))
            except psycopg.Error as exc:
                sys.exit("migration %s failed: %s" % (path.name, str(exc).strip()))
            applied += 1
            print("applied %s" % path.name)
    print("migrations applied: %d" % applied)


if __name__ == "__main__":
    main()

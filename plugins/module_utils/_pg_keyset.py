# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Keyset walks over a table's unique key, and the check that the key is one.

A batch is the next N rows in key order: `(k1, k2) > (last batch's end)` up to
this batch's end, read from the key's own index. That works for any key
PostgreSQL can order (bigint, uuid, text, a composite such as pg-boss's
(name, id)), where min/max arithmetic only works on integers. A key that is
not unique is refused up front: a batch that selects rows by a non-unique
value selects every row sharing it, filter or not.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from psycopg import sql
except ImportError:  # reported with missing_required_lib by the module
    sql = None

# The table's unique keys: valid, non-partial indexes on plain columns, in index order.
UNIQUE_KEYS = """
SELECT i.indisprimary,
       array_agg(a.attname ORDER BY k.ord) AS columns,
       bool_and(a.attnotnull) AS not_null,
       c.oid,
       c.relkind = 'p' AS partitioned
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE n.nspname = %s AND c.relname = %s
  AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
  AND k.ord <= i.indnkeyatts
GROUP BY i.indexrelid, i.indisprimary, c.oid, c.relkind
ORDER BY i.indisprimary DESC, i.indexrelid
"""


class NotAUniqueKey(ValueError):
    """Columns a walk cannot go by; the message names the table's unique keys instead."""


def unique_key(conn, schema, table, columns):
    """The Key of SCHEMA.TABLE over the unique index that has exactly COLUMNS; NotAUniqueKey when none does.

    The walk orders by the index's own column order, so each slice is one
    index range scan rather than a sort.
    """
    keys = conn.execute(UNIQUE_KEYS, (schema, table)).fetchall()
    for _primary, key_columns, not_null, oid, partitioned in keys:
        if sorted(key_columns) == sorted(columns):
            if not not_null:
                raise NotAUniqueKey(
                    "the unique key (%s) of %s.%s allows NULL, and a row whose key is NULL is never reached by a "
                    "walk; use the primary key or a unique key on NOT NULL columns"
                    % (", ".join(columns), schema, table)
                )
            return Key(sql.Identifier(schema, table), key_columns, oid, partitioned)
    found = "; ".join("(%s)%s" % (", ".join(key[1]), " primary key" if key[0] else "") for key in keys)
    raise NotAUniqueKey(
        "id_column (%s) is not a unique key of %s.%s: no primary key or unique index has exactly these columns, and "
        "a batch selecting rows by a shared value would touch every row sharing it. Name the columns of one of its "
        "unique keys: %s" % (", ".join(columns), schema, table, found or "it has none; add a primary key")
    )


class Key(object):
    """The key columns of TABLE (an sql.Identifier) and the SQL a walk over them needs.

    OID is the table's; PARTITIONED says it is a partitioned parent (its rows live in its partitions).
    """

    def __init__(self, table, columns, oid, partitioned):
        self.table = table
        self.columns = list(columns)
        self.oid = oid
        self.partitioned = partitioned
        self.row = sql.SQL("({})").format(sql.SQL(", ").join(sql.Identifier(c) for c in self.columns))
        self.order = sql.SQL(", ").join(sql.Identifier(c) for c in self.columns)

    def values(self, prefix):
        """A row of named placeholders PREFIX0, PREFIX1, ... matching the key's columns."""
        return sql.SQL("({})").format(
            sql.SQL(", ").join(sql.Placeholder("%s%d" % (prefix, i)) for i in range(len(self.columns)))
        )

    @staticmethod
    def args(prefix, values):
        return dict(("%s%d" % (prefix, i), value) for i, value in enumerate(values))

    def range_clause(self, first):
        """Rows after the last batch's end (none before the first batch) up to this batch's end."""
        upper = sql.SQL("{} <= {}").format(self.row, self.values("hi"))
        if first:
            return upper
        return sql.SQL("{} > {} AND ").format(self.row, self.values("after")) + upper

    def last(self, conn):
        """The highest key now; the walk stops there, so rows queued meanwhile do not keep it going."""
        query = sql.SQL("SELECT {order} FROM {table} ORDER BY {desc} LIMIT 1").format(
            order=self.order,
            table=self.table,
            desc=sql.SQL(", ").join(sql.SQL("{} DESC").format(sql.Identifier(c)) for c in self.columns),
        )
        return conn.execute(query).fetchone()

    def slices(self, conn, size):
        """Yield (after, end) per batch of SIZE keys: after is None for the first batch."""
        last = self.last(conn)
        if last is None:
            return
        first = sql.SQL("SELECT {order} FROM {table} WHERE {row} <= {end} ORDER BY {order} OFFSET %(skip)s LIMIT 1")
        later = sql.SQL(
            "SELECT {order} FROM {table} WHERE {row} > {after} AND {row} <= {end} ORDER BY {order} "
            "OFFSET %(skip)s LIMIT 1"
        )
        parts = dict(order=self.order, table=self.table, row=self.row, end=self.values("end"))
        first = first.format(**parts).as_string(conn)
        later = later.format(after=self.values("after"), **parts).as_string(conn)
        after = None
        while True:
            args = dict(self.args("end", last), skip=size - 1)
            if after is None:
                end = conn.execute(first, args, prepare=False).fetchone()
            else:
                end = conn.execute(later, dict(args, **self.args("after", after)), prepare=False).fetchone()
            end = tuple(end) if end is not None else tuple(last)
            yield after, end
            if end == tuple(last):
                return
            after = end

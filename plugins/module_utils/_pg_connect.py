# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""PostgreSQL login options and connections (psycopg 3), shared by the collection's modules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import psycopg

    HAS_PSYCOPG = True
    PSYCOPG_IMPORT_ERROR = None
except ImportError as exc:  # reported with missing_required_lib by the modules
    psycopg = None
    HAS_PSYCOPG = False
    PSYCOPG_IMPORT_ERROR = exc

DEFAULT_CONNECT_TIMEOUT = 10


def argument_spec():
    """The login options; documented in doc_fragments/postgres.py."""
    return dict(
        login_host=dict(type="str", default=""),
        login_port=dict(type="int", default=5432),
        login_user=dict(type="str", default="postgres"),
        login_password=dict(type="str", default="", no_log=True),
        login_unix_socket=dict(type="str", default=""),
        login_db=dict(type="str", default="postgres", aliases=["db"]),
        ssl_mode=dict(
            type="str", default="prefer", choices=["allow", "disable", "prefer", "require", "verify-ca", "verify-full"]
        ),
        ca_cert=dict(type="path"),
        connect_params=dict(type="dict", default={}),
    )


def connection_kwargs(params):
    kwargs = {
        "host": params["login_unix_socket"] or params["login_host"] or None,
        "port": params["login_port"],
        "user": params["login_user"],
        "dbname": params["login_db"],
        "sslmode": params["ssl_mode"],
        "connect_timeout": DEFAULT_CONNECT_TIMEOUT,
    }
    if params["login_password"]:
        kwargs["password"] = params["login_password"]
    if params.get("ca_cert"):
        kwargs["sslrootcert"] = params["ca_cert"]
    kwargs.update(params.get("connect_params") or {})
    return dict((k, v) for k, v in kwargs.items() if v is not None)


def describe(params):
    """Where we connect, for messages: never the password."""
    where = params["login_unix_socket"] or params["login_host"] or "the default socket"
    return "database %s on %s port %s as %s" % (params["login_db"], where, params["login_port"], params["login_user"])


def connect(params, read_only=False, autocommit=False):
    """A psycopg connection; raises psycopg.Error with libpq's message on failure."""
    conn = psycopg.connect(autocommit=autocommit, **connection_kwargs(params))
    if read_only:
        conn.read_only = True
    return conn

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The PostgreSQL login options every module of this collection takes (module_utils/_pg_connect.py).
    DOCUMENTATION = r"""
options:
  login_host:
    description: Host of the PostgreSQL server. Empty with O(login_unix_socket) unset means the default socket.
    type: str
    default: ""
  login_port:
    description: Port of the PostgreSQL server.
    type: int
    default: 5432
  login_user:
    description: The role to connect as.
    type: str
    default: postgres
  login_password:
    description: Password of O(login_user). Never logged.
    type: str
    default: ""
  login_unix_socket:
    description: Directory of the server's Unix socket; used instead of O(login_host) when set.
    type: str
    default: ""
  login_db:
    description: Database to connect to.
    type: str
    default: postgres
    aliases: [db]
  ssl_mode:
    description: libpq's sslmode.
    type: str
    default: prefer
    choices: [allow, disable, prefer, require, verify-ca, verify-full]
  ca_cert:
    description: CA certificate to verify the server with (libpq's sslrootcert).
    type: path
  connect_params:
    description: "Further libpq connection parameters, for example V({application_name: deploy})."
    type: dict
    default: {}
"""

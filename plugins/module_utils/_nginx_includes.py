# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Whether nginx would read the upstream directory's files by itself, from its own includes.

The gapless services' upstream files (`server 127.0.0.1:PORT;`) are meant to be
included inside an upstream block of the stack's site. A directory that one of
nginx's own include globs reaches (`sites-enabled/*`, `conf.d/*.conf`, or any
the host's configuration adds) would have nginx read them, or the directory
itself, at the top of its http block: the next reload fails and the host keeps
a broken configuration. The globs are read from `nginx -T`, nginx's own view
of its configuration; a host without nginx yet gets Debian's. Pure functions,
used through the collection's filters.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import re

CONF_PREFIX = "/etc/nginx"
INCLUDE = re.compile(r"^\s*include\s+(\"[^\"]*\"|'[^']*'|[^;#\s]+)\s*;", re.MULTILINE)
# What Debian's nginx.conf includes, for a host where nginx is not installed yet.
DEBIAN_INCLUDES = (
    "/etc/nginx/modules-enabled/*.conf",
    "/etc/nginx/mime.types",
    "/etc/nginx/conf.d/*.conf",
    "/etc/nginx/sites-enabled/*",
)


def include_globs(nginx_config):
    """The include paths of `nginx -T` output as absolute globs; Debian's when there is no output."""
    if not nginx_config or not nginx_config.strip():
        return list(DEBIAN_INCLUDES)
    found = []
    for raw in INCLUDE.findall(nginx_config):
        path = raw.strip("\"'")
        found.append(path if path.startswith("/") else "%s/%s" % (CONF_PREFIX, path))
    return found


def _matches(path, pattern):
    """glob(3) as nginx calls it: a wildcard never crosses a slash."""
    path_parts, pattern_parts = path.split("/"), pattern.split("/")
    return len(path_parts) == len(pattern_parts) and all(
        fnmatch.fnmatchcase(part, glob)
        for part, glob in zip(path_parts, pattern_parts)  # noqa: B905 - lengths compared just before
    )


def upstream_dir_problems(variable, directory, names, nginx_config):
    """Sentences for an upstream DIRECTORY whose files (NAMES.conf) or directories nginx's includes reach."""
    plain = re.sub("/+", "/", str(directory)).rstrip("/")
    parts = plain.split("/")
    # Every directory the role may create on the way, and each file it writes.
    directories = ["/".join(parts[:end]) for end in range(2, len(parts) + 1)]
    files = ["%s/%s.conf" % (plain, name) for name in names]
    reached = []
    for pattern in include_globs(nginx_config):
        # The stack's own site includes each upstream file by its exact name: that is the one place meant.
        if pattern in files:
            continue
        reached.extend((path, pattern) for path in directories + files if _matches(path, pattern))
    if not reached:
        return []
    path, pattern = reached[0]
    return [
        "%s %r: nginx reads %s by itself (include %s), outside the upstream block it belongs in, and would "
        "refuse its configuration at the next reload; give a directory no include reaches, such as "
        "/etc/nginx/steadyops-upstreams" % (variable, directory, path, pattern)
    ]

"""Whether nginx's own includes reach the upstream directory: globs as nginx -T shows them."""

import pytest
from ansible_collections.steadyops.stack.plugins.filter.nginx import nginx_upstream_dir_problems

# The shape of `nginx -T` on Debian with the stack's site: files announced, includes as written.
NGINX_T = """# configuration file /etc/nginx/nginx.conf:
user www-data;
include /etc/nginx/modules-enabled/*.conf;
http {
    include mime.types;
    include /etc/nginx/conf.d/*.conf;
    include /etc/nginx/sites-enabled/*;
    # include /etc/nginx/disabled/*;
}
# configuration file /etc/nginx/sites-enabled/steadyops.conf:
upstream steadyops-tms-frontend {
    include /etc/nginx/steadyops-upstreams/tms-frontend.conf;
}
# configuration file /etc/nginx/conf.d/local.conf:
include "/srv/nginx extra/*.conf";
"""


@pytest.mark.parametrize(
    ("directory", "reached", "pattern"),
    [
        ("/etc/nginx/sites-enabled/upstreams", "/etc/nginx/sites-enabled/upstreams", "/etc/nginx/sites-enabled/*"),
        ("/etc/nginx/sites-enabled/a/b", "/etc/nginx/sites-enabled/a", "/etc/nginx/sites-enabled/*"),
        ("/etc/nginx/conf.d", "/etc/nginx/conf.d/tms-frontend.conf", "/etc/nginx/conf.d/*.conf"),
        ("/etc/nginx/conf.d/", "/etc/nginx/conf.d/tms-frontend.conf", "/etc/nginx/conf.d/*.conf"),
        ("/srv/nginx extra", "/srv/nginx extra/tms-frontend.conf", "/srv/nginx extra/*.conf"),
    ],
)
def test_a_directory_an_include_reaches_is_refused_naming_path_and_include(directory, reached, pattern):
    problems = nginx_upstream_dir_problems(directory, ["tms-frontend"], NGINX_T, "bootstrap_nginx_upstream_dir")
    assert problems == [
        "bootstrap_nginx_upstream_dir %r: nginx reads %s by itself (include %s), outside the upstream block it "
        "belongs in, and would refuse its configuration at the next reload; give a directory no include reaches, "
        "such as /etc/nginx/steadyops-upstreams" % (directory, reached, pattern)
    ]


@pytest.mark.parametrize(
    "directory",
    [
        "/etc/nginx/steadyops-upstreams",  # the site's own exact include of its file is the place meant
        "/etc/nginx/conf.d/upstreams",  # conf.d/*.conf does not reach a directory without .conf
        "/etc/nginx/disabled",  # a commented-out include is not one
        "/srv/upstreams",
    ],
)
def test_a_directory_no_include_reaches_is_accepted(directory):
    assert nginx_upstream_dir_problems(directory, ["tms-frontend"], NGINX_T) == []


def test_a_host_without_nginx_yet_is_checked_against_debians_includes():
    assert nginx_upstream_dir_problems("/etc/nginx/sites-enabled/up", [], "")
    assert nginx_upstream_dir_problems("/etc/nginx/conf.d", ["x"], "   \n")
    assert nginx_upstream_dir_problems("/etc/nginx/steadyops-upstreams", ["x"], "") == []


def test_a_wildcard_never_crosses_a_slash_as_in_glob():
    config = "include /etc/nginx/*.conf;"
    assert nginx_upstream_dir_problems("/etc/nginx/up", ["x"], config) == []
    assert nginx_upstream_dir_problems("/etc/nginx", ["x"], config)

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: email_validate
short_description: Validate email addresses under an explicit, per-environment policy
version_added: 0.1.0
description:
  - Validates addresses with python-email-validator under a named policy, and says for each one
    under which other named policies it would fail. Written after logins failed in staging because
    a strict validator rejected C(test@gmail.test), C(.test) being a special-use name (RFC 6761).
  - The addresses come from exactly one source, a list (O(emails)), the keys of an env file
    (O(env_file)), or one column of a PostgreSQL query (O(query)), for audits such as a users table.
  - "B(production): strict. Only globally deliverable domains; every special-use name is rejected:
    the library's (C(arpa), C(invalid), C(local), C(localhost), C(onion), C(test)) and the ones
    reserved since (C(internal), C(alt))."
  - "B(staging): as production, but the special-use names in its allow-list are accepted;
    by default C(test), C(local) and C(internal)."
  - "B(custom): the options given in O(custom) for this call."
  - Policies are data. O(policies) overrides keys of the named policies or adds new ones, usually
    from inventory. The special-use allow-list applies to one call only; the library's process-wide
    list is never changed. It is decided on the domain as the library reads it (NFKC, ideographic full
    stops), so C(shop.test) typed in fullwidth letters is C(shop.test).
  - A strict policy counts the part before the @-sign in octets (UTF-8), as RFC 5321 does - at most 64.
  - The module only reads. DNS deliverability checks are off unless a policy turns them on.
author:
  - steadyops engineering (@steadyops)
extends_documentation_fragment:
  - steadyops.stack.postgres
attributes:
  check_mode:
    support: full
    description: The module only reads; check mode gives the same results.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
  platform:
    support: full
    platforms: posix
    description: Any host with Python and email-validator; psycopg for O(query).
options:
  emails:
    description: Addresses to check.
    type: list
    elements: str
  env_file:
    description: An env file (C(KEY=value) lines); values of the keys matching O(key_pattern) are checked.
    type: path
  key_pattern:
    description: Regular expression searched (case-insensitive) in the env file's keys.
    type: str
    default: EMAIL
  separator:
    description: An env value holding several addresses is split on this string. Empty means one address per value.
    type: str
    default: ","
  query:
    description: A query against PostgreSQL returning one column of addresses. Runs in a read-only transaction.
    type: str
  query_args:
    description:
      - Parameters of O(query), a list for positional placeholders (C(%s)), or a dictionary for named ones,
        written %(email)s in psycopg's syntax.
    type: raw
  policy:
    description: The policy to validate under, V(production), V(staging), another name from O(policies), or V(custom).
    type: str
    default: production
  policies:
    description:
      - Named policies, each a dictionary of options overriding the defaults key by key, or a new policy.
        Options are the keys of O(custom), typed and checked as there (V("false") is false; a value that
        is not a boolean, or a name in the allow-list that is not a string, is refused).
    type: dict
    default: {}
  custom:
    description: The options of the V(custom) policy.
    type: dict
    suboptions:
      strict:
        description: The library's strict mode, which also enforces the 64-octet limit of the part before the @-sign.
        type: bool
        default: true
      allow_smtputf8:
        description: Accept internationalized characters before the @-sign.
        type: bool
        default: true
      allow_empty_local:
        description: Accept an empty part before the @-sign (C(@example.com)).
        type: bool
        default: false
      allow_quoted_local:
        description: Accept a quoted part before the @-sign (C("john doe"@example.com)).
        type: bool
        default: false
      allow_domain_literal:
        description: Accept a bracketed IP address after the @-sign.
        type: bool
        default: false
      allow_display_name:
        description: Accept C(Name <address>).
        type: bool
        default: false
      globally_deliverable:
        description: Require a domain that could receive mail on the Internet (a period, a top-level domain).
        type: bool
        default: true
      check_deliverability:
        description: Look the domain up in DNS (MX, A records). Slow, and needs network access.
        type: bool
        default: false
      test_environment:
        description:
          - The library's test mode, for test suites of the application itself. It accepts C(.test) and
            turns off deliverability checks. O(custom.allowed_special_use) is the finer tool.
        type: bool
        default: false
      allowed_special_use:
        description: Special-use names accepted in this call, for example V([test, local]).
        type: list
        elements: str
        default: []
  fail_on_invalid:
    description: Fail when any address is invalid. V(false) only reports.
    type: bool
    default: true
  return_valid:
    description: Include valid addresses in RV(results). V(false) keeps the output of large audits short.
    type: bool
    default: true
  dns_timeout:
    description: Seconds for each DNS lookup when a policy checks deliverability.
    type: int
    default: 15
requirements:
  - email-validator >= 2.3 on the host that runs the module (an older one is refused, naming the version needed)
  - psycopg >= 3.1 there too, only for O(query)
seealso:
  - plugin: steadyops.stack.valid_email
    plugin_type: test
"""

EXAMPLES = r"""
- name: Refuse a deploy whose configured addresses production would reject
  steadyops.stack.email_validate:
    env_file: /opt/tms/shared/tms-backend.env
    policy: production

- name: Audit the users table of staging, report only
  steadyops.stack.email_validate:
    query: SELECT email FROM users
    login_db: tms
    login_user: auditor
    login_password: "{{ vault_auditor_password }}"
    policy: staging
    fail_on_invalid: false
    return_valid: false
  register: __email_audit

- name: A stricter staging for this inventory, and a QA policy
  steadyops.stack.email_validate:
    emails: "{{ stack_admin_emails }}"
    policy: "{{ stack_email_policy }}"
    policies:
      staging:
        allowed_special_use: [test]
      qa:
        allowed_special_use: [test, local]
        allow_display_name: true
"""

RETURN = r"""
results:
  description: One entry per address (only invalid ones when O(return_valid=false)).
  returned: always
  type: list
  elements: dict
  sample:
    - address: test@gmail.test
      source: SSO_TEST_USER_EMAIL
      valid: true
      normalized: test@gmail.test
      ascii_email: test@gmail.test
      reason: null
      message: null
      would_fail_in: [production]
totals:
  description: Counts of addresses checked, valid and invalid, invalid per reason, and failing per other policy.
  returned: always
  type: dict
  sample: {checked: 3, valid: 2, invalid: 1, by_reason: {special_use_domain: 1}, would_fail_in: {production: 2}}
policy:
  description: The name and the options of the policy used.
  returned: always
  type: dict
"""

import re
import sys

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.steadyops.stack.plugins.module_utils import _email_policy, _pg_connect

FAILED_LISTED = 10
ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$")


def parse_env_addresses(text, key_pattern, separator):
    """(address, KEY) pairs from env-file text, for the keys matching key_pattern."""
    pairs = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = ENV_LINE.match(line)
        if not match or not key_pattern.search(match.group(1)):
            continue
        value = match.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        parts = value.split(separator) if separator else [value]
        pairs.extend((part.strip(), match.group(1)) for part in parts)
    return pairs


class EmailAudit(object):
    def __init__(self, module):
        self.module = module
        self.emails = module.params["emails"]

    def addresses(self):
        params = self.module.params
        if self.emails is not None:
            return [(address, "emails[%d]" % i) for i, address in enumerate(self.emails)]
        if params["env_file"] is not None:
            return self.from_env_file(params["env_file"])
        return self.from_query(params["query"])

    def from_env_file(self, path):
        try:
            pattern = re.compile(self.module.params["key_pattern"], re.IGNORECASE)
        except re.error as exc:
            self.module.fail_json(
                msg="key_pattern %r is not a valid regular expression (%s)." % (self.module.params["key_pattern"], exc)
            )
        try:
            # Bytes that are not UTF-8 stay in their one address (escaped in its
            # verdict) instead of failing every other address of the file.
            with open(path, "r", encoding="utf-8", errors="surrogateescape") as handle:
                text = handle.read()
        except (IOError, OSError) as exc:
            self.module.fail_json(
                msg="Cannot read env_file %s: %s. Check the path and that the connecting user "
                "may read it (become: true)." % (path, exc.strerror or exc)
            )
        return parse_env_addresses(text, pattern, self.module.params["separator"])

    def from_query(self, query):
        params = self.module.params
        if not _pg_connect.HAS_PSYCOPG:
            self.module.fail_json(msg=missing_required_lib("psycopg"), exception=str(_pg_connect.PSYCOPG_IMPORT_ERROR))
        try:
            with _pg_connect.connect(params, read_only=True) as conn, conn.cursor() as cursor:
                cursor.execute(query, params["query_args"])
                if cursor.description is None or len(cursor.description) == 0:
                    self.module.fail_json(
                        msg="The query returned no column; it must return one column of "
                        "addresses, for example: SELECT email FROM users."
                    )
                if len(cursor.description) != 1:
                    self.module.fail_json(
                        msg="The query returned %d columns (%s); it must return exactly one, "
                        "the addresses." % (len(cursor.description), ", ".join(c.name for c in cursor.description))
                    )
                column = cursor.description[0].name
                rows = cursor.fetchall()
        except _pg_connect.psycopg.Error as exc:
            self.module.fail_json(
                msg="The query against %s failed: %s" % (_pg_connect.describe(params), str(exc).strip())
            )
        return [(row[0], "%s row %d" % (column, i + 1)) for i, row in enumerate(rows)]

    def run(self):
        params = self.module.params
        try:
            policies = _email_policy.build_policies(params["policies"])
            chosen = _email_policy.resolve(params["policy"], policies, params["custom"])
        except _email_policy.PolicyError as exc:
            self.module.fail_json(msg=str(exc))
        addresses = self.addresses()
        results, totals = _email_policy.evaluate(
            addresses, params["policy"], policies, params["custom"], timeout=params["dns_timeout"]
        )
        invalid = [r for r in results if not r["valid"]]
        report = {
            "changed": False,
            "results": results if params["return_valid"] else invalid,
            "totals": totals,
            "policy": dict(chosen, name=params["policy"]),
        }
        if invalid and params["fail_on_invalid"]:
            listed = "; ".join(
                "%s (%s): %s" % (r["address"], r["source"], r["reason"]) for r in invalid[:FAILED_LISTED]
            )
            more = " and %d more" % (len(invalid) - FAILED_LISTED) if len(invalid) > FAILED_LISTED else ""
            self.module.fail_json(
                msg="%d of %d address(es) are invalid under policy %s: %s%s. Fix the data, or choose the policy "
                "this environment needs (policy, policies), or set fail_on_invalid: false to report only."
                % (len(invalid), len(results), params["policy"], listed, more),
                **report,
            )
        return report


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            emails=dict(type="list", elements="str"),
            env_file=dict(type="path"),
            # A pattern for key names, not a secret.
            key_pattern=dict(type="str", default="EMAIL", no_log=False),
            separator=dict(type="str", default=","),
            query=dict(type="str"),
            query_args=dict(type="raw"),
            policy=dict(type="str", default="production"),
            policies=dict(type="dict", default={}),
            custom=dict(
                type="dict",
                options=dict(
                    strict=dict(type="bool", default=True),
                    allow_smtputf8=dict(type="bool", default=True),
                    allow_quoted_local=dict(type="bool", default=False),
                    allow_domain_literal=dict(type="bool", default=False),
                    allow_display_name=dict(type="bool", default=False),
                    globally_deliverable=dict(type="bool", default=True),
                    check_deliverability=dict(type="bool", default=False),
                    allow_empty_local=dict(type="bool", default=False),
                    test_environment=dict(type="bool", default=False),
                    allowed_special_use=dict(type="list", elements="str", default=[]),
                ),
            ),
            fail_on_invalid=dict(type="bool", default=True),
            return_valid=dict(type="bool", default=True),
            dns_timeout=dict(type="int", default=15),
            **_pg_connect.argument_spec(),
        ),
        required_one_of=[["emails", "env_file", "query"]],
        mutually_exclusive=[["emails", "env_file", "query"]],
        supports_check_mode=True,
    )


def main():
    module = build_module()
    if not _email_policy.HAS_EMAIL_VALIDATOR:
        # The command itself, for the very Python that ran the module: the collection's
        # playbooks run it on the controller, whose Python is easy to mistake for another.
        module.fail_json(
            msg="%s Install it with: %s -m pip install 'email-validator>=2.3'"
            % (missing_required_lib("email-validator"), sys.executable),
            exception=str(_email_policy.EMAIL_VALIDATOR_IMPORT_ERROR),
        )
    problem = _email_policy.library_problem()
    if problem:
        module.fail_json(msg=problem)
    audit = EmailAudit(module)
    # Ansible echoes the arguments back (invocation); an address read from bytes that are not UTF-8 holds a
    # lone surrogate, and the controller refuses a whole result that carries one. The addresses are taken
    # as given, and the echo shows them escaped, as the verdicts do.
    if audit.emails is not None:
        module.params["emails"] = [_email_policy.printable(str(e)) if e is not None else e for e in audit.emails]
    module.exit_json(**audit.run())


if __name__ == "__main__":
    main()

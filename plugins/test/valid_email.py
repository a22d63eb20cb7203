# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: valid_email
short_description: Whether an address is valid under a named email policy
version_added: 0.1.0
author:
  - steadyops engineering (@steadyops)
description:
  - The same policies and code as the M(steadyops.stack.email_validate) module, run on the controller,
    for preflight asserts.
options:
  _input:
    description: The address.
    type: str
    required: true
  policy:
    description: V(production), V(staging), or a name from O(policies).
    type: str
    default: production
  policies:
    description: Overrides and extra policies, as the module's O(steadyops.stack.email_validate#module:policies).
    type: dict
    default: {}
  custom:
    description:
      - The options of O(policy=custom), as the module's O(steadyops.stack.email_validate#module:custom)
        (unset ones as production has them).
    type: dict
requirements:
  - email-validator on the controller
"""

EXAMPLES = r"""
- name: Every configured admin address is acceptable in this environment
  ansible.builtin.assert:
    that:
      - item is steadyops.stack.valid_email(policy=stack_email_policy)
    fail_msg: "{{ item }} is not a valid address under policy {{ stack_email_policy }}"
  loop: "{{ stack_admin_emails }}"

- name: The QA mailbox is acceptable with display names and .test allowed
  ansible.builtin.assert:
    that:
      - "'QA <qa@shop.test>' is steadyops.stack.valid_email(policy='custom', custom=qa_options)"
  vars:
    qa_options: {allow_display_name: true, allowed_special_use: [test]}
"""

RETURN = r"""
_value:
  description: True when the address is valid under the policy.
  type: bool
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.basic import missing_required_lib

from ansible_collections.steadyops.stack.plugins.module_utils import _email_policy


def valid_email(address, policy="production", policies=None, custom=None):
    if not _email_policy.HAS_EMAIL_VALIDATOR:
        raise AnsibleFilterError(missing_required_lib("email-validator"))
    problem = _email_policy.library_problem()
    if problem:
        raise AnsibleFilterError("valid_email: %s" % problem)
    try:
        options = _email_policy.resolve(policy, _email_policy.build_policies(policies), custom)
    except _email_policy.PolicyError as exc:
        raise AnsibleFilterError("valid_email: %s" % exc) from None
    return _email_policy.Validator().check(address, options)["valid"]


class TestModule(object):
    def tests(self):
        return {"valid_email": valid_email}

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Named email policies on top of python-email-validator.

The grammar is the library's; this file only chooses its options per policy,
names the reasons it gives, and applies one thing the library cannot do per
call: allowing some special-use domains (RFC 6761: .test, .local, ...) for one
policy while another rejects them. The library knows only a process-wide
list, which is never modified here. Instead, an address rejected for a
special-use domain that the policy allows is validated again with that final
label replaced by an ordinary one of the same length, so every other check of
the library still applies to it, and the name is put back in the result. That
is decided by the policy's allow-list and the library's own result (the
domain it parsed), never by the wording of an error.

A run over many addresses (an audit of a users table) validates each distinct
domain once: domain_memo() memoizes the library's own domain check, a pure
function of its arguments, so every verdict stays the library's.

Used by the email_validate module and the valid_email test plugin.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import copy
import inspect
import sys
import unicodedata
from importlib import metadata as importlib_metadata

from ansible.module_utils.parsing.convert_bool import boolean

try:
    import email_validator
    from email_validator import EmailNotValidError, EmailUndeliverableError

    HAS_EMAIL_VALIDATOR = True
    EMAIL_VALIDATOR_IMPORT_ERROR = None
except ImportError as exc:  # reported with missing_required_lib by the callers
    HAS_EMAIL_VALIDATOR = False
    EMAIL_VALIDATOR_IMPORT_ERROR = exc

# The first release with every option a policy passes (`strict` came in 2.3.0).
# Debian 12's python3-email-validator is 1.3.0.
MINIMUM_LIBRARY = "2.3.0"

# Reserved for private use after the library's list was written: ICANN set
# aside .internal (2024) and RFC 9476 .alt. Rejected like the library's own
# special-use names unless a policy allows them.
EXTRA_SPECIAL_USE = ("internal", "alt")

# The library's options a policy sets (each a boolean), and ours.
LIBRARY_OPTIONS = (
    "strict",
    "allow_smtputf8",
    "allow_empty_local",
    "allow_quoted_local",
    "allow_domain_literal",
    "allow_display_name",
    "globally_deliverable",
    "check_deliverability",
    "test_environment",
)
OPTION_KEYS = (*LIBRARY_OPTIONS, "allowed_special_use")

# Policies are data. Inventory may override any key of a named policy, or add
# a policy, through the module's `policies` option.
PRODUCTION = {
    "description": "Strict: only globally deliverable addresses; every special-use domain is rejected.",
    "strict": True,
    "allow_smtputf8": True,
    "allow_empty_local": False,
    "allow_quoted_local": False,
    "allow_domain_literal": False,
    "allow_display_name": False,
    "globally_deliverable": True,
    "check_deliverability": False,
    # The library's test mode accepts .test and skips deliverability; the
    # allow-list below is the finer tool, and the one the defaults use.
    "test_environment": False,
    "allowed_special_use": [],
}
DEFAULT_POLICIES = {
    "production": PRODUCTION,
    # Staging differs from production in one reviewed way only: the allow-list.
    "staging": dict(
        PRODUCTION,
        description="As production, but test domains are accepted: .test (RFC 6761) and the allow-list.",
        allowed_special_use=["test", "local", "internal"],
    ),
}

REASONS = (
    ("special-use or reserved name", "special_use_domain"),
    ("It should have a period", "not_globally_deliverable"),
    ("not within a valid top-level domain", "not_globally_deliverable"),
    ("display name and angle brackets", "display_name_not_allowed"),
    ("Quoting the part before the @-sign is not allowed", "quoted_local_part_not_allowed"),
    ("bracketed IP address after the @-sign is not allowed", "domain_literal_not_allowed"),
    ("Internationalized characters before the @-sign are not supported", "smtputf8_not_allowed"),
    ("too long", "too_long"),
    ("so many characters", "too_long"),
    ("must have an @-sign", "missing_at_sign"),
    ("There must be something", "empty_part"),
)


class PolicyError(ValueError):
    """A policy name or option that cannot be used; the message says which and what to do."""


def reason_code(exc):
    """A stable code for a library error; `syntax` when no finer one applies."""
    if HAS_EMAIL_VALIDATOR and isinstance(exc, EmailUndeliverableError):
        return "undeliverable"
    message = str(exc)
    for fragment, code in REASONS:
        if fragment in message:
            return code
    return "syntax"


def library_problem():
    """Why the installed email-validator cannot run the policies, or None."""
    if not HAS_EMAIL_VALIDATOR:
        return None
    accepted = inspect.signature(email_validator.validate_email).parameters
    missing = [name for name in LIBRARY_OPTIONS if name not in accepted]
    if not missing:
        return None
    return (
        "email-validator %s on this host lacks the option(s) %s that the policies pass; email-validator %s or "
        "newer is needed (pip install 'email-validator>=%s'; Debian 12's python3-email-validator is too old)"
        % (
            _library_version(),
            ", ".join(missing),
            MINIMUM_LIBRARY,
            MINIMUM_LIBRARY,
        )
    )


def _library_version():
    # Releases before 2.0 have no __version__; their package metadata has it.
    version = getattr(email_validator, "__version__", None)
    if version:
        return version
    try:
        return importlib_metadata.version("email-validator")
    except importlib_metadata.PackageNotFoundError:
        return "(unknown version)"


def library_special_use():
    """The library's special-use names plus ours: read, never written."""
    names = list(email_validator.SPECIAL_USE_DOMAIN_NAMES) if HAS_EMAIL_VALIDATOR else []
    return tuple(names) + tuple(n for n in EXTRA_SPECIAL_USE if n not in names)


def build_policies(overrides=None):
    """The named policies: the defaults, each overridden key by key, plus any new ones."""
    policies = copy.deepcopy(DEFAULT_POLICIES)
    for name, options in (overrides or {}).items():
        if not isinstance(options, dict):
            raise PolicyError("policies.%s must be a dictionary of options, got %r" % (name, options))
        base = policies.get(name, copy.deepcopy(DEFAULT_POLICIES["production"]))
        base.update(options)
        if name not in DEFAULT_POLICIES and "description" not in options:
            base["description"] = "Defined in inventory."
        policies[name] = base
    return dict((name, typed_options(options, "policies.%s" % name)) for name, options in policies.items())


def typed_options(options, where):
    """OPTIONS checked and typed: booleans as Ansible reads them ("false" is false), the allow-list as names.

    The same for `custom` and for `policies`, so an option means one thing
    wherever it is written.
    """
    unknown = sorted(set(options) - set(OPTION_KEYS) - {"description"})
    if unknown:
        raise PolicyError(
            "%s has unknown option(s) %s; the options are: %s" % (where, ", ".join(unknown), ", ".join(OPTION_KEYS))
        )
    typed = dict(options)
    for key in LIBRARY_OPTIONS:
        try:
            typed[key] = boolean(options[key], strict=True)
        except TypeError:
            raise PolicyError("%s.%s must be true or false, got %r" % (where, key, options[key])) from None
    allowed = options.get("allowed_special_use", [])
    if not isinstance(allowed, (list, tuple)):
        raise PolicyError("%s.allowed_special_use must be a list of domain names such as ['test', 'local']" % where)
    for name in allowed:
        if not isinstance(name, str) or not name or name != name.strip(".").lower() or " " in name:
            raise PolicyError(
                "%s.allowed_special_use: %r should be a lower-case name like 'local', without dots "
                "at either end" % (where, name)
            )
    typed["allowed_special_use"] = list(allowed)
    return typed


def resolve(policy, policies, custom=None):
    """The options for one policy name; `custom` takes explicit options instead of a name."""
    if policy == "custom":
        if not custom:
            raise PolicyError(
                "policy 'custom' needs its options in `custom`, for example "
                "{'allowed_special_use': ['test'], 'allow_display_name': true}"
            )
        options = copy.deepcopy(DEFAULT_POLICIES["production"])
        options.update((key, value) for key, value in custom.items() if value is not None)
        options["description"] = "Custom options for this call."
        return typed_options(options, "custom")
    if policy not in policies:
        raise PolicyError("unknown policy %r; use one of: %s, or custom" % (policy, ", ".join(sorted(policies))))
    return policies[policy]


class CompiledPolicy(object):
    """A policy's options turned into the library call they make, computed once per run."""

    def __init__(self, name, options, timeout=None):
        self.name = name
        self.options = options
        self.allowed = tuple(options.get("allowed_special_use") or ())
        # Typed by typed_options(): real booleans only.
        self.kwargs = dict((key, options[key]) for key in LIBRARY_OPTIONS)
        if timeout:
            self.kwargs["timeout"] = timeout
        # Policies with equal keys get equal answers from the library.
        self.key = tuple(sorted(self.kwargs.items()))


class Validator(object):
    """Validates addresses under compiled policies.

    check() takes an optional `answers` dict, shared while one address is
    checked under several policies: policies whose library options are equal
    then cost one library call between them, and only the special-use
    allowances, decided here, differ.
    """

    @staticmethod
    def _library(address, kwargs):
        try:
            return email_validator.validate_email(address, **kwargs), None
        except EmailNotValidError as exc:
            return None, exc

    def check(self, address, policy, answers=None):
        """One verdict: dict(valid, normalized, ascii_email, reason, message)."""
        if not isinstance(policy, CompiledPolicy):
            policy = CompiledPolicy(None, policy)
        if address is None or not str(address).strip():
            return _verdict(False, reason="empty", message="There is no address (empty value).")
        address = str(address)
        if not is_utf8(address):
            return _verdict(
                False,
                reason="not_utf8",
                message="The address is not valid UTF-8 text (bytes that decode to no character); "
                "they are shown escaped in `address`.",
            )
        allowed = self._check_allowed_special_use(address, policy)
        if allowed is not None:
            return allowed
        answer = answers.get(policy.key) if answers is not None else None
        if answer is None:
            answer = self._library(address, policy.kwargs)
            if answers is not None:
                answers[policy.key] = answer
        result, error = answer
        if error is not None:
            return _verdict(False, reason=reason_code(error), message=str(error))
        return _policy_problem(result, policy) or _verdict(
            True, normalized=result.normalized, ascii_email=result.ascii_email
        )

    def _check_allowed_special_use(self, address, policy):
        """The verdict for an address whose domain ends in a name the policy allows, else None.

        The library sees the address with that last label replaced, so its
        other checks all apply; its result says whether the replaced label
        was the domain's last one (it always is when the address parses).
        """
        typed = _with_normalized_domain(address)
        for name in sorted(policy.allowed, key=len, reverse=True):
            stand_in = _with_stand_in(typed, name)
            if stand_in is None:
                continue
            result, error = self._library(stand_in, policy.kwargs)
            if error is not None:
                return _verdict(False, reason=reason_code(error), message=str(error))
            placeholder = _placeholder(name)
            domain = (result.ascii_domain or "").lower()
            if domain != placeholder and not domain.endswith("." + placeholder):
                return None
            too_long = _local_part_octets_problem(result, policy)
            if too_long:
                return too_long
            return _verdict(
                True,
                normalized=_restore(result.normalized, placeholder, name),
                ascii_email=_restore(result.ascii_email, placeholder, name),
            )
        return None


def is_utf8(text):
    """Whether TEXT can be written as UTF-8: no lone surrogate (what undecodable bytes become)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable(text):
    """TEXT as it can be returned and logged: a lone surrogate as an escape (\\udcff)."""
    return text if is_utf8(text) else text.encode("utf-8", "backslashreplace").decode("utf-8")


def _verdict(valid, normalized=None, ascii_email=None, reason=None, message=None):
    return {"valid": valid, "normalized": normalized, "ascii_email": ascii_email, "reason": reason, "message": message}


def _special_use_suffix(ascii_domain, names):
    domain = (ascii_domain or "").lower()
    for name in names:
        if domain == name or domain.endswith("." + name):
            return name
    return None


def _policy_problem(result, policy):
    """What the policy refuses in an address the library accepted (its length, a reserved name), or None."""
    too_long = _local_part_octets_problem(result, policy)
    if too_long:
        return too_long
    reserved = _special_use_suffix(result.ascii_domain, EXTRA_SPECIAL_USE)
    if reserved and reserved not in policy.allowed:
        return _verdict(
            False,
            reason="special_use_domain",
            message="The part after the @-sign ends in .%s, a "
            "name reserved for private use that cannot be used with email." % reserved,
        )
    return None


# RFC 5321 4.5.3.1.1: the local part is at most 64 octets (UTF-8 bytes under SMTPUTF8, not characters).
LOCAL_PART_OCTETS = 64


def _local_part_octets_problem(result, policy):
    """The verdict refusing a local part over 64 octets under a strict policy, else None."""
    if not policy.kwargs.get("strict"):
        return None
    octets = len((result.local_part or "").encode("utf-8"))
    if octets <= LOCAL_PART_OCTETS:
        return None
    return _verdict(
        False,
        reason="too_long",
        message="The part before the @-sign is %d octets long (UTF-8), more than the %d RFC 5321 allows."
        % (octets, LOCAL_PART_OCTETS),
    )


# Label separators IDNA (UTS #46) reads as a full stop, beside those NFKC folds to one.
_FULL_STOPS = {"\u3002": ".", "\uff61": "."}


def _with_normalized_domain(address):
    """The address with its domain as the library will read it: NFKC (fullwidth letters), full stops folded.

    The allow-list is decided on the name the address really has: `.test` in
    fullwidth letters, or after a fullwidth or ideographic full stop, is `.test`.
    """
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    folded = unicodedata.normalize("NFKC", domain)
    for stop, dot in _FULL_STOPS.items():
        folded = folded.replace(stop, dot)
    return local + at + folded


def _placeholder(name):
    # Same length as the name, so the library's length limits see the real size.
    return "x" * len(name)


def _with_stand_in(address, name):
    """The address with its final domain label `name` replaced by a placeholder, or None if it does not end so."""
    tail = ">" if address.endswith(">") else ""
    core = address[: len(address) - len(tail)]
    if len(core) <= len(name) or core[-len(name) :].lower() != name or core[-len(name) - 1] not in ".@":
        return None
    return core[: -len(name)] + _placeholder(name) + tail


def _restore(value, placeholder, name):
    if value and value.endswith("." + placeholder):
        return value[: -len(placeholder)] + name
    return value


def evaluate(addresses, policy_name, policies, custom=None, timeout=None):
    """Validate (address, source) pairs under one policy; flag the named policies each address fails.

    Returns (results, totals). `would_fail_in` lists, for each address, the
    other named policies that reject it: an address valid for staging and
    invalid for production shows ["production"].
    """
    chosen = CompiledPolicy(policy_name, resolve(policy_name, policies, custom), timeout)
    others = [
        CompiledPolicy(name, options, timeout) for name, options in sorted(policies.items()) if name != policy_name
    ]
    with domain_memo():
        return _evaluate(addresses, chosen, others)


def _evaluate(addresses, chosen, others):
    validator = Validator()
    results = []
    totals = {"checked": 0, "valid": 0, "invalid": 0, "by_reason": {}, "would_fail_in": {}}
    by_reason, would_fail = totals["by_reason"], totals["would_fail_in"]
    for address, source in addresses:
        answers = {}
        verdict = validator.check(address, chosen, answers)
        failing = [other.name for other in others if not validator.check(address, other, answers)["valid"]]
        verdict["address"] = address if address is None else printable(str(address))
        verdict["source"] = printable(source)
        verdict["would_fail_in"] = failing
        results.append(verdict)
        if verdict["valid"]:
            totals["valid"] += 1
        else:
            by_reason[verdict["reason"]] = by_reason.get(verdict["reason"], 0) + 1
        for name in failing:
            would_fail[name] = would_fail.get(name, 0) + 1
    totals["checked"] = len(results)
    totals["invalid"] = totals["checked"] - totals["valid"]
    return results, totals


def _memoized(function):
    """FUNCTION, a pure one, answering each distinct call once: its result, or its exception raised anew."""
    seen = {}

    def answer(*args, **kwargs):
        key = (args, tuple(kwargs.items()))  # the library calls with its keywords in one order
        if key not in seen:
            try:
                seen[key] = (function(*args, **kwargs), None)
            except EmailNotValidError as exc:
                seen[key] = (None, exc)
        result, error = seen[key]
        if error is not None:
            raise type(error)(*error.args)
        return dict(result)

    return answer


@contextlib.contextmanager
def domain_memo():
    """While open, the library checks each distinct domain once (syntax, IDNA and, if asked, DNS).

    Both functions are pure for given arguments (the DNS answer aside, which
    a run takes once anyway), and the library's own orchestration around
    them is untouched, so each verdict is the one the library would give.
    Only for a run in a process of its own (the module): the library's
    module attributes are replaced while the context is open, then put back.
    """
    if not HAS_EMAIL_VALIDATOR:
        yield
        return
    caller = sys.modules[email_validator.validate_email.__module__]
    deliverability = sys.modules.get("email_validator.deliverability")
    saved = [(caller, "validate_email_domain_name", caller.validate_email_domain_name)]
    if deliverability is not None:
        saved.append((deliverability, "validate_email_deliverability", deliverability.validate_email_deliverability))
    try:
        for owner, name, function in saved:
            setattr(owner, name, _memoized(function))
        yield
    finally:
        for owner, name, function in saved:
            setattr(owner, name, function)

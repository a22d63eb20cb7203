"""Email policies over a corpus: each address's verdict and reason under each policy.

Columns: production, staging, and a permissive custom policy. A verdict is
True (valid) or the reason code the address is rejected with.
"""

import pytest
from ansible_collections.steadyops.stack.plugins.module_utils import _email_policy as email_policy

CUSTOM = {
    "strict": False,
    "allow_quoted_local": True,
    "allow_domain_literal": True,
    "allow_display_name": True,
    "globally_deliverable": False,
    "allowed_special_use": ["test", "local", "invalid"],
}

LONG_LABEL = "a" * 64
LONG_DOMAIN = ".".join(["b" * 63] * 3)  # 191 characters

CORPUS = [
    # address, production, staging, custom, normalized (when valid somewhere)
    # -- the outage
    ("test@gmail.test", "special_use_domain", True, True, "test@gmail.test"),
    ("Test@Gmail.TEST", "special_use_domain", True, True, "Test@gmail.test"),
    # -- ordinary and normalized
    ("alice@example.com", True, True, True, "alice@example.com"),
    ("Alice.Smith+tag@Example.COM", True, True, True, "Alice.Smith+tag@example.com"),
    # -- internationalized domains and local parts
    ("user@münchen.de", True, True, True, "user@münchen.de"),
    ("用户@例子.广告", True, True, True, "用户@例子.广告"),
    ("a@例え.test", "special_use_domain", True, True, "a@例え.test"),
    # -- quoted local parts
    (
        '"john doe"@example.com',
        "quoted_local_part_not_allowed",
        "quoted_local_part_not_allowed",
        True,
        '"john doe"@example.com',
    ),
    # the library checks the quoting permission before the domain
    (
        '"qa team"@shop.local',
        "quoted_local_part_not_allowed",
        "quoted_local_part_not_allowed",
        True,
        '"qa team"@shop.local',
    ),
    # -- special-use and reserved names
    ("a@printer.local", "special_use_domain", True, True, "a@printer.local"),
    ("a@db.internal", "special_use_domain", True, "special_use_domain", "a@db.internal"),
    ("a@sub.example.internal", "special_use_domain", True, "special_use_domain", "a@sub.example.internal"),
    ("a@mail.invalid", "special_use_domain", "special_use_domain", True, "a@mail.invalid"),
    ("a@x.onion", "special_use_domain", "special_use_domain", "special_use_domain", None),
    ("a@host.localhost", "special_use_domain", "special_use_domain", "special_use_domain", None),
    ("a@home.arpa", "special_use_domain", "special_use_domain", "special_use_domain", None),
    ("a@relay.alt", "special_use_domain", "special_use_domain", "special_use_domain", None),
    # -- display names
    ("Jane <jane@example.com>", "display_name_not_allowed", "display_name_not_allowed", True, "jane@example.com"),
    # the display-name permission is the library's last check: the domain fails first
    ("QA <qa@shop.test>", "special_use_domain", "display_name_not_allowed", True, "qa@shop.test"),
    # -- trailing dots and misplaced periods
    ("jane@example.com.", "syntax", "syntax", "syntax", None),
    ("jane@example.test.", "syntax", "syntax", "syntax", None),
    ("jane.@example.com", "syntax", "syntax", "syntax", None),
    ("ja..ne@example.com", "syntax", "syntax", "syntax", None),
    # -- over-long labels and addresses; a special-use name does not hide them
    ("a@" + LONG_LABEL + ".com", "too_long", "too_long", "too_long", None),
    ("a@" + LONG_LABEL + ".test", "too_long", "too_long", "too_long", None),
    # RFC 5321's 64-octet local part: enforced by strict policies only
    ("a" * 65 + "@example.com", "too_long", "too_long", True, "a" * 65 + "@example.com"),
    ("a" * 64 + "@" + LONG_DOMAIN + ".com", "too_long", "too_long", "too_long", None),
    ("a" * 64 + "@" + LONG_DOMAIN[:-4] + ".test", "special_use_domain", "too_long", "too_long", None),
    # -- not globally deliverable, domain literals, missing parts
    ("a@b", "not_globally_deliverable", "not_globally_deliverable", True, "a@b"),
    ("user@[192.0.2.1]", "domain_literal_not_allowed", "domain_literal_not_allowed", True, "user@[192.0.2.1]"),
    ("no-at-sign.example.com", "missing_at_sign", "missing_at_sign", "missing_at_sign", None),
    ("@example.com", "empty_part", "empty_part", "empty_part", None),
    ("", "empty", "empty", "empty", None),
]


@pytest.fixture(scope="module")
def policies():
    return email_policy.build_policies()


def verdict(address, options):
    result = email_policy.Validator().check(address, options)
    return (True if result["valid"] else result["reason"]), result


@pytest.mark.parametrize(
    ("address", "production", "staging", "custom", "normalized"), CORPUS, ids=[c[0] for c in CORPUS]
)
def test_corpus(policies, address, production, staging, custom, normalized):
    columns = {
        "production": (production, policies["production"]),
        "staging": (staging, policies["staging"]),
        "custom": (custom, email_policy.resolve("custom", policies, CUSTOM)),
    }
    for name, (expected, options) in columns.items():
        got, result = verdict(address, options)
        assert got == expected, "%s under %s: %s" % (address, name, result)
        if got is True:
            assert result["normalized"] == normalized
            assert result["reason"] is None
        else:
            assert result["normalized"] is None
            assert result["message"]


def test_the_outage_replayed(policies):
    results, totals = email_policy.evaluate([("test@gmail.test", "SSO_TEST_USER_EMAIL")], "production", policies)
    assert results[0]["valid"] is False
    assert results[0]["reason"] == "special_use_domain"
    assert "special-use" in results[0]["message"]
    assert results[0]["would_fail_in"] == []

    results, totals = email_policy.evaluate([("test@gmail.test", "SSO_TEST_USER_EMAIL")], "staging", policies)
    assert results[0]["valid"] is True
    assert results[0]["would_fail_in"] == ["production"]
    assert totals == {"checked": 1, "valid": 1, "invalid": 0, "by_reason": {}, "would_fail_in": {"production": 1}}


def test_would_fail_in_lists_every_other_named_policy():
    policies = email_policy.build_policies(
        {"qa": {"allowed_special_use": ["test", "local"], "allow_display_name": True}}
    )
    results, _totals = email_policy.evaluate([("QA <qa@shop.test>", "x"), ("a@db.internal", "y")], "qa", policies)
    assert results[0]["valid"] is True
    assert results[0]["would_fail_in"] == ["production", "staging"]
    assert results[1]["valid"] is False
    assert results[1]["would_fail_in"] == ["production"]


def test_allowing_a_name_never_touches_the_library_list(policies):
    before = list(email_policy.email_validator.SPECIAL_USE_DOMAIN_NAMES)
    verdict("a@printer.local", policies["staging"])
    assert before == email_policy.email_validator.SPECIAL_USE_DOMAIN_NAMES
    # The library itself still rejects it afterwards.
    with pytest.raises(email_policy.EmailNotValidError):
        email_policy.email_validator.validate_email("a@printer.local", check_deliverability=False)


def test_inventory_overrides_a_key_and_keeps_the_rest():
    policies = email_policy.build_policies({"staging": {"allowed_special_use": ["test"]}})
    assert policies["staging"]["allowed_special_use"] == ["test"]
    assert policies["staging"]["globally_deliverable"] is True
    assert verdict("a@printer.local", policies["staging"])[0] == "special_use_domain"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: email_policy.resolve("prod", email_policy.build_policies()), "unknown policy 'prod'; use one of"),
        (lambda: email_policy.resolve("custom", email_policy.build_policies()), "policy 'custom' needs its options"),
        (lambda: email_policy.build_policies({"staging": {"allow_smtp": True}}), "unknown option(s) allow_smtp"),
        (lambda: email_policy.build_policies({"qa": "strict"}), "policies.qa must be a dictionary"),
        (
            lambda: email_policy.build_policies({"qa": {"allowed_special_use": [".Local"]}}),
            "should be a lower-case name",
        ),
    ],
)
def test_bad_policies_are_explained(call, message):
    with pytest.raises(email_policy.PolicyError) as error:
        call()
    assert message in str(error.value)

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
    # octets, not characters: 33 x "é" is 66 octets in UTF-8; 32 x "é" is 64
    ("é" * 33 + "@example.com", "too_long", "too_long", True, "é" * 33 + "@example.com"),
    ("é" * 32 + "@example.com", True, True, True, "é" * 32 + "@example.com"),
    ("é" * 33 + "@shop.test", "special_use_domain", "too_long", True, "é" * 33 + "@shop.test"),
    # -- the allow-list decides on the domain as the library reads it (NFKC, ideographic full stops)
    ("qa@shop.\uff54\uff45\uff53\uff54", "special_use_domain", True, True, "qa@shop.test"),
    ("qa@shop\uff0etest", "special_use_domain", True, True, "qa@shop.test"),
    ("qa@printer.\uff4c\uff4f\uff43\uff41\uff4c", "special_use_domain", True, True, "qa@printer.local"),
    ("qa@shop\u3002test", "special_use_domain", True, True, "qa@shop.test"),
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


def corpus_with_repeats():
    """Addresses over few domains, each several times: valid, internationalized, special-use, invalid."""
    domains = [
        "example.com",
        "münchen.de",
        "例子.广告",
        "gmail.test",
        "printer.local",
        "db.internal",
        "x.onion",
        "b",
        "example.com.",
        LONG_LABEL + ".com",
        "xn--ls8h.la",
        "xn--zz.com",
        "[192.0.2.1]",
    ]
    locals_ = ["alice", "Bob.Smith+tag", "用户", '"quoted one"', "a" * 65, "x..y"]
    return [("%s@%s" % (local, domain), "row") for _round in range(3) for domain in domains for local in locals_]


def test_each_domain_checked_once_gives_every_verdict_the_library_gives(policies):
    """evaluate() (the library's domain check memoized) against the same run with none memoized."""
    addresses = [*corpus_with_repeats(), ("Jane <jane@gmail.test>", "x"), ("caf\udce9@example.com", "y")]
    for name in ("production", "staging", "custom"):
        chosen = email_policy.CompiledPolicy(name, email_policy.resolve(name, policies, CUSTOM))
        others = [email_policy.CompiledPolicy(other, policies[other]) for other in sorted(policies) if other != name]
        unmemoized = email_policy._evaluate(addresses, chosen, others)
        memoized = email_policy.evaluate(addresses, name, policies, CUSTOM)
        assert memoized == unmemoized
        assert memoized[1]["invalid"] > 0
        assert memoized[1]["valid"] > 0


def test_the_library_is_put_back_after_a_run(policies):
    caller = email_policy.sys.modules[email_policy.email_validator.validate_email.__module__]
    before = caller.validate_email_domain_name
    email_policy.evaluate([("a@example.com", "x")], "production", policies)
    assert caller.validate_email_domain_name is before


def test_an_allowed_name_is_decided_by_the_parsed_domain_not_by_error_text(policies):
    # ".test" inside a quoted local part is not the domain's: no allowance applies.
    got, result = verdict('"user@x.test"@example.com', policies["staging"])
    assert got == "quoted_local_part_not_allowed", result
    # The domain's last label in upper case, or inside a display name's brackets, is.
    assert verdict("QA.Team@Shop.TEST", policies["staging"])[0] is True
    qa = email_policy.build_policies({"qa": {"allowed_special_use": ["test"], "allow_display_name": True}})["qa"]
    assert verdict("QA <qa@shop.test>", qa)[0] is True


def test_a_lone_surrogate_gets_its_own_verdict_and_an_escaped_address(policies):
    results, totals = email_policy.evaluate(
        [("ok@example.com", "a"), ("caf\udce9@example.com", "b"), ("also@example.com", "c")], "production", policies
    )
    assert [r["valid"] for r in results] == [True, False, True]
    assert results[1]["reason"] == "not_utf8"
    assert results[1]["address"] == "caf\\udce9@example.com"
    assert totals["by_reason"] == {"not_utf8": 1}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"allow_display_name": "maybe"}, "custom.allow_display_name must be true or false, got 'maybe'"),
        ({"strict": None}, None),  # unset: production's value
        ({"allowed_special_use": [1]}, "custom.allowed_special_use: 1 should be a lower-case name"),
    ],
)
def test_custom_options_are_typed(policies, options, message):
    if message is None:
        assert email_policy.resolve("custom", policies, options)["strict"] is True
        return
    with pytest.raises(email_policy.PolicyError) as error:
        email_policy.resolve("custom", policies, options)
    assert message in str(error.value)


def test_string_booleans_read_as_ansible_reads_them():
    typed = email_policy.build_policies({"qa": {"allow_display_name": "false", "strict": "yes"}})["qa"]
    assert (typed["allow_display_name"], typed["strict"]) == (False, True)

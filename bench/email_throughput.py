"""Email validation throughput: email_validate's core against the raw library, in the same run.

Two corpora of 100,000 addresses (mostly ordinary, some internationalized,
some on special-use domains, some invalid):

  repeated  domains drawn as a users table has them: a few providers hold
            most addresses (Zipf over 400 domains)
  distinct  every address on a domain of its own

Each goes through

  raw       email_validator.validate_email(address, check_deliverability=False)  (the baseline)
  uncached  _email_policy's core with each domain checked at every address
  ours      _email_policy.evaluate(..., "production", ...) - the module's core:
            the verdict under production plus would_fail_in for every other
            named policy, each distinct domain checked once per run

and the ratios of throughputs to raw are printed. ours and uncached must give
the same verdicts on every address, or the benchmark stops. Not a test:
nothing passes or fails on time.
"""

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".cache" / "collections"))

import email_validator  # noqa: E402
from ansible_collections.steadyops.stack.plugins.module_utils import _email_policy  # noqa: E402

PROVIDERS = ["gmail.com", "outlook.com", "yahoo.co.jp", "web.de", "münchen.de", "例子.广告", "mail.example.org"]
SPECIAL = ["gmail.test", "printer.local", "db.internal", "x.onion"]
INVALID = ["no-at-sign.example.com", "a..b@example.com", "trailing@example.com.", "@example.com", "x@b"]


def repeated_domain(rng, index):
    """Providers first, then a long tail of company domains, as in a users table (Zipf, s=1.1)."""
    pool = PROVIDERS + ["corp%d.example.com" % n for n in range(400 - len(PROVIDERS))]
    rank = min(int(rng.paretovariate(1.1)) - 1, len(pool) - 1)
    return pool[rank]


def distinct_domain(rng, index):
    return ("bücher-%d.de" if index % 10 == 0 else "host%d.example.com") % index


def corpus(count, domain, seed=6761):
    rng = random.Random(seed)  # noqa: S311 - a reproducible corpus, not a secret
    addresses = []
    for i in range(count):
        roll = rng.random()
        if roll < 0.90:
            addresses.append("user.%d+%d@%s" % (i, rng.randrange(1000), domain(rng, i)))
        elif roll < 0.95:
            addresses.append("qa%d@%s" % (i, rng.choice(SPECIAL)))
        else:
            addresses.append(rng.choice(INVALID))
    return addresses


def raw(addresses):
    valid = 0
    for address in addresses:
        try:
            email_validator.validate_email(address, check_deliverability=False)
            valid += 1
        except email_validator.EmailNotValidError:
            pass
    return valid


def ours(addresses, policies):
    return _email_policy.evaluate(((a, "bench") for a in addresses), "production", policies)


def uncached(addresses, policies):
    chosen = _email_policy.CompiledPolicy("production", policies["production"])
    others = [_email_policy.CompiledPolicy(name, policies[name]) for name in sorted(policies) if name != "production"]
    return _email_policy._evaluate(((a, "bench") for a in addresses), chosen, others)


def best_of(repeats, fn, *args):
    best, answer = None, None
    for _repeat in range(repeats):
        started = time.perf_counter()
        answer = fn(*args)
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return best, answer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    policies = _email_policy.build_policies()
    print("%d addresses a corpus, best of %d runs; policies: %s" % (args.count, args.repeats, ", ".join(policies)))
    print("%-10s %-44s %10s %8s %8s" % ("corpus", "method", "addr/s", "valid", "x raw"))
    for name, domain in (("repeated", repeated_domain), ("distinct", distinct_domain)):
        addresses = corpus(args.count, domain)
        raw_seconds, raw_valid = best_of(args.repeats, raw, addresses)
        slow_seconds, slow = best_of(args.repeats, uncached, addresses, policies)
        our_seconds, fast = best_of(args.repeats, ours, addresses, policies)
        if fast != slow:
            sys.exit("bench/email_throughput.py: per-domain caching changed a verdict on the %s corpus" % name)
        raw_rate = args.count / raw_seconds
        rows = (
            ("email_validator.validate_email (baseline)", raw_seconds, raw_valid),
            ("evaluate, every domain checked each time", slow_seconds, slow[1]["valid"]),
            ("evaluate, each distinct domain once (ours)", our_seconds, fast[1]["valid"]),
        )
        for label, seconds, valid in rows:
            rate = args.count / seconds
            print("%-10s %-44s %10.0f %8d %8.2f" % (name, label, rate, valid, rate / raw_rate))
    print("verdicts with and without per-domain caching: identical on both corpora")


if __name__ == "__main__":
    main()

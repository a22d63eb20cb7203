"""Email validation throughput: email_validate's core against the raw library, in the same run.

100,000 addresses (mostly ordinary, some internationalized, some on
special-use domains, some invalid) go through

  raw     email_validator.validate_email(address, check_deliverability=False)  (the baseline)
  ours    _email_policy.evaluate(..., "production", ...)  - the module's core:
          the verdict under production plus would_fail_in for every other named policy

and the ratio of throughputs is printed. Not a test: nothing passes or fails.
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

DOMAINS = ["example.com", "mail.example.org", "corp.example.net", "münchen.de", "例子.广告"]
SPECIAL = ["gmail.test", "printer.local", "db.internal", "x.onion"]
INVALID = ["no-at-sign.example.com", "a..b@example.com", "trailing@example.com.", "@example.com", "x@b"]


def corpus(count, seed=6761):
    rng = random.Random(seed)  # noqa: S311 - a reproducible corpus, not a secret
    addresses = []
    for i in range(count):
        roll = rng.random()
        if roll < 0.90:
            addresses.append("user.%d+%d@%s" % (i, rng.randrange(1000), rng.choice(DOMAINS)))
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
    _results, totals = _email_policy.evaluate(((a, "bench") for a in addresses), "production", policies)
    return totals["valid"]


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
    addresses = corpus(args.count)
    policies = _email_policy.build_policies()

    raw_seconds, raw_valid = best_of(args.repeats, raw, addresses)
    our_seconds, our_valid = best_of(args.repeats, ours, addresses, policies)

    raw_rate, our_rate = args.count / raw_seconds, args.count / our_seconds
    print("%d addresses, best of %d runs; policies compared: %s" % (args.count, args.repeats, ", ".join(policies)))
    print("%-44s %12s %10s %8s" % ("method", "addr/s", "valid", "x raw"))
    print("%-44s %12.0f %10d %8.2f" % ("email_validator.validate_email (baseline)", raw_rate, raw_valid, 1.0))
    print(
        "%-44s %12.0f %10d %8.2f"
        % ("_email_policy.evaluate (production + others)", our_rate, our_valid, our_rate / raw_rate)
    )
    print("target: ours >= 0.8x raw throughput -> %s" % ("met" if our_rate >= 0.8 * raw_rate else "NOT met"))


if __name__ == "__main__":
    main()

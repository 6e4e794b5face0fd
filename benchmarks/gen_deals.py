"""Write a deterministic deal CSV for the `crm opp import` benchmark.

    python benchmarks/gen_deals.py N OUT.csv [--seed 20240611]

Comma-separated UTF-8 with the header ``Deal,Account,Contact email,Amount,Stage,Probability,
Close date,Owner,Status``: N deals over about N/5 accounts (so most rows reuse an account an
earlier row created), a contact e-mail on 30% of rows, amounts with cents, the default
pipeline's stages, 10% won and 5% lost. About 1% of the rows repeat an earlier deal at the same
account (a duplicate the import skips) and about 0.5% are bad (an amount such as ``12,3,4``).
The same N and seed always give the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

SEED = 20240611
HEADER = [
    "Deal", "Account", "Contact email", "Amount", "Stage", "Probability", "Close date", "Owner",
    "Status",
]  # fmt: skip
STAGES = ["Prospecting", "Qualification", "Needs analysis", "Proposal", "Negotiation"]
WORDS = ["Renewal", "Expansion", "Pilot", "Rollout", "Upgrade", "Migration", "Support"]
ORGS = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell", "Cyberdyne"]
KINDS = ["Ltda", "S.A.", "Inc", "GmbH", "Comércio", "Indústria"]
OWNERS = ["ana", "bruno", "carla", "diego"]


def rows(count: int, seed: int) -> list[list[str]]:
    """`count` data rows."""
    rng = random.Random(seed)
    accounts = [
        f"{rng.choice(ORGS)} {rng.choice(KINDS)} {n}" for n in range(1, max(1, count // 5) + 1)
    ]
    out: list[list[str]] = []
    for i in range(1, count + 1):
        if out and rng.random() < 0.01:
            out.append(list(rng.choice(out)))  # the same deal at the same account again
            continue
        account = rng.choice(accounts)
        amount = f"{rng.randint(500, 250_000)}.{rng.randint(0, 99):02d}"
        if rng.random() < 0.005:
            amount = "12,3,4"
        status = rng.choices(["open", "won", "lost"], [85, 10, 5])[0]
        out.append(
            [
                f"{rng.choice(WORDS)} {i}",
                account,
                f"buyer{i}@example.com" if rng.random() < 0.3 else "",
                amount,
                rng.choice(STAGES),
                str(rng.randint(5, 95)) if rng.random() < 0.3 else "",
                f"2027-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                rng.choice(OWNERS),
                status,
            ]
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    with args.out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows(args.count, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Compare two ``make bench`` results: how each page's cost grows with the dataset (issue 17
item 5).

    .venv/bin/python bench/compare.py instance/bench/results-postgresql-20000b-cache-off.json \\
        instance/bench/results-postgresql-200000b-cache-off.json

A page's cost in a run is the time one request takes relative to ``/healthz`` measured just
before it (``healthz req/s ÷ page req/s``): the machine's drift during and between the runs
cancels out.  The growth is the second run's cost over the first's; a page passes when the two
are within ``--limit`` (1.2) of each other, either way.  Pages found in one run only are listed
apart.  Exit status: 1 with ``--strict`` when a page exceeds the limit, else 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def cost(row: dict) -> float | None:
    """One request's time in /healthz requests (None: the page answered nothing)."""
    if not row.get("rps") or not row.get("healthz_rps"):
        return None
    return row["healthz_rps"] / row["rps"]


def compare(first: dict, second: dict, limit: float = 1.2) -> list[dict]:
    """Per page present in both runs: the two costs, the growth and the verdict."""
    earlier = {row["label"]: row for row in first.get("rows", [])}
    lines = []
    for row in second.get("rows", []):
        before = earlier.get(row["label"])
        if before is None:
            continue
        a, b = cost(before), cost(row)
        growth = b / a if a and b else None
        within = growth is not None and 1 / limit <= growth <= limit
        lines.append({"label": row["label"], "first_rps": before.get("rps", 0.0),
                      "second_rps": row.get("rps", 0.0), "first_cost": a, "second_cost": b,
                      "growth": growth, "verdict": "PASS" if within else "FAIL"})
    return lines


def only_in_one(first: dict, second: dict) -> list[str]:
    a = {row["label"] for row in first.get("rows", [])}
    b = {row["label"] for row in second.get("rows", [])}
    return sorted(a ^ b)


def _size(results: dict, path: Path) -> str:
    return f"{results['bookings']} bookings" if results.get("bookings") else path.name


def table(lines: list[dict], first: str, second: str, limit: float) -> str:
    def number(value: float | None, spec: str) -> str:
        return "–" if value is None else format(value, spec)

    out = [f"| page | req/s ({first}) | req/s ({second}) | cost ({first}) | cost ({second}) | "
           f"growth | within {limit}× |", "|---|---:|---:|---:|---:|---:|---|"]
    for line in lines:
        out.append(f"| {line['label']} | {line['first_rps']:.0f} | {line['second_rps']:.0f} | "
                   f"{number(line['first_cost'], '.1f')} | {number(line['second_cost'], '.1f')} | "
                   f"{number(line['growth'], '.2f')}× | {line['verdict']} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first", type=Path, help="results JSON of the smaller dataset")
    parser.add_argument("second", type=Path, help="results JSON of the larger dataset")
    parser.add_argument("--limit", type=float, default=1.2)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a page exceeds it")
    args = parser.parse_args(argv)
    first, second = (json.loads(path.read_text()) for path in (args.first, args.second))
    lines = compare(first, second, args.limit)
    if not lines:
        print("the two runs have no page in common")
        return 1
    print(table(lines, _size(first, args.first), _size(second, args.second), args.limit))
    print()
    print("cost: one request's time in /healthz requests (healthz req/s ÷ page req/s, the "
          "sample taken just before the page); growth: second ÷ first")
    missing = only_in_one(first, second)
    if missing:
        print(f"in one run only: {', '.join(missing)}")
    failed = [line["label"] for line in lines if line["verdict"] == "FAIL"]
    if failed:
        print(f"beyond {args.limit}×: {', '.join(failed)}")
        return 1 if args.strict else 0
    print(f"every page within {args.limit}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())

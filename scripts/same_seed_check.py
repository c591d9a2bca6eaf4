"""Same seed, same ids: record (or compare) the ids that margin, hybrid and auto choose on digits.

Usage::

    python scripts/same_seed_check.py record docs/design/same-seed-ids.json
    python scripts/same_seed_check.py compare docs/design/same-seed-ids.json

The run uses an explicit estimator (not a model-table name), so the check is about the loop,
the strategies and the query path, not about what a name like ``logreg`` means.
"""

from __future__ import annotations

import json
import sys

from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import activelab as al

STRATEGIES = ("margin", "hybrid", "auto")
SEEDS = (0, 1)


def chosen_ids() -> dict[str, list[list[int]]]:
    X, y = load_digits(return_X_y=True)
    X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    out: dict[str, list[list[int]]] = {}
    for strategy in STRATEGIES:
        for seed in SEEDS:
            result = al.run(
                LogisticRegression(max_iter=2000), X_pool, y_pool, strategy=strategy,
                X_test=X_test, y_test=y_test, initial=20, batch_size=10, budget=120,
                random_state=seed,
            )
            out[f"{strategy}/seed={seed}"] = [
                [int(i) for i in result.initial_ids]
            ] + [[int(i) for i in r.query_ids] for r in result.rounds[1:]]
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("record", "compare"):
        print(__doc__)
        return 2
    ids = chosen_ids()
    if argv[1] == "record":
        with open(argv[2], "w") as fh:
            lines = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in ids.items()]
            fh.write("{\n" + ",\n".join(lines) + "\n}\n")
        print(f"recorded {len(ids)} runs to {argv[2]}")
        return 0
    with open(argv[2]) as fh:
        expected = json.load(fh)
    bad = [key for key in expected if expected[key] != ids.get(key)]
    for key in expected:
        print(f"{key}: {'same ids' if key not in bad else 'DIFFERENT ids'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

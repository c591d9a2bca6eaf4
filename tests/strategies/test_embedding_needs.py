"""Core-set and BADGE declare ``Needs.EMBEDDINGS``: with a model that has an ``embed``
hook they measure in its embeddings (query_once fills them in), without one they work on
the features as before."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from activelab.strategies import get_strategy
from activelab.strategies.base import Needs, needs_of
from activelab.strategies.query import query_once

X = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 3.0], [1.0, 1.0]])
XL = np.array([[0.0, 0.1], [5.0, 0.2]])
YL = np.array([0, 1])


class SecondColumn(LogisticRegression):
    """A classifier whose embedding of a row is its second column alone."""

    def embed(self, rows):
        return np.asarray(rows, dtype=np.float64)[:, 1:2] * 1.0


@pytest.mark.parametrize("name", ["coreset", "badge"])
def test_both_declare_embeddings(name):
    assert Needs.EMBEDDINGS in needs_of(get_strategy(name))


def test_coreset_measures_in_the_embedding_when_the_model_has_one():
    # features: (10, 0) is farthest from the labeled rows (0, 0.1) and (5, 0.2): id 1.
    # embedding y alone: candidates 0, 0, 3, 1 against labeled 0.1, 0.2: id 2 (2.8 away)
    plain = LogisticRegression().fit(XL, YL)
    r = query_once(plain, X, None, "coreset", 1, X_labeled=XL, y_labeled=YL)
    assert r.ids.tolist() == [1] and r.info["space"] == "features"
    np.testing.assert_allclose(r.utilities[1], np.hypot(5.0, 0.2), rtol=1e-6)
    embedded = SecondColumn().fit(XL, YL)
    r = query_once(embedded, X, None, "coreset", 2, X_labeled=XL, y_labeled=YL)
    assert r.info["space"] == "embeddings"
    assert r.ids.tolist() == [2, 3]  # then y = 1: 0.8 from y = 0.2 (and 2 from y = 3)
    np.testing.assert_allclose(r.utilities, [0.1, 0.1, 2.8, 0.8], rtol=1e-6)


def test_coreset_uses_given_embeddings_and_falls_back_without_labeled_ones():
    plain = LogisticRegression().fit(XL, YL)
    H = X[:, 1:2]
    given = query_once(plain, X, None, "coreset", 1, X_labeled=XL, y_labeled=YL,
                       extras={"embeddings": H, "labeled_embeddings": XL[:, 1:2]})
    assert given.ids.tolist() == [2] and given.info["space"] == "embeddings"
    # candidate embeddings without the labeled rows' cannot be compared: the features
    half = query_once(plain, X, None, "coreset", 1, X_labeled=XL, y_labeled=YL,
                      extras={"embeddings": H})
    assert half.ids.tolist() == [1] and half.info["space"] == "features"
    with pytest.raises(ValueError, match=r"extras\['labeled_embeddings'\] has shape"):
        query_once(plain, X, None, "coreset", 1, X_labeled=XL, y_labeled=YL,
                   extras={"embeddings": H, "labeled_embeddings": XL})


def test_badge_uses_the_model_embeddings_through_query_once():
    rng = np.random.RandomState(0)
    Xb = rng.normal(size=(60, 2))
    yb = (Xb[:, 0] + 0.3 * rng.normal(size=60) > 0).astype(int)
    embedded = SecondColumn().fit(Xb[:20], yb[:20])
    auto = query_once(embedded, Xb, None, "badge", 5, random_state=0)
    by_hand = query_once(embedded, Xb, None, "badge", 5, random_state=0,
                         extras={"embeddings": Xb[:, 1:2]})
    assert auto.info["embedding"] == "extras"
    assert auto.ids.tolist() == by_hand.ids.tolist()
    np.testing.assert_allclose(auto.utilities, by_hand.utilities)
    plain = LogisticRegression().fit(Xb[:20], yb[:20])
    linear = query_once(plain, Xb, None, "badge", 5, random_state=0)
    assert linear.info["embedding"] == "linear"
    # the linear model's inputs are both columns, the embedding only the second: other
    # gradient embeddings, so other norms
    assert not np.allclose(linear.utilities, auto.utilities)

"""Chunked scoring of sampled strategies: the same ids whatever the chunk size.

MC-dropout masks depend on (seed, draw, layer) only, and the strategies that draw at
random (power_bald's noise, EPIG's target sample) draw by position with one key per
query, so a pool scored in chunks gets the choice of the whole pool.
"""

from __future__ import annotations

import numpy as np
import pytest

from activelab.scale import score_out_of_core
from activelab.strategies.query import utilities_once

torch = pytest.importorskip("torch", reason="the deep extra needs torch==2.13.0")

UTILITY_SAMPLED = ["bald", "variation_ratios", "mean_std", "mc_entropy", "power_bald", "epig"]


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    from activelab.torch import TorchClassifier

    rng = np.random.default_rng(0)
    X = rng.standard_normal((2400, 6)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int) + (X[:, 3] > 1)
    clf = TorchClassifier(hidden_units=(24,), dropout=0.3, epochs=8, random_state=0)
    clf.fit(X[:150], y[:150])
    path = tmp_path_factory.mktemp("pool") / "pool.npy"
    np.save(path, X)
    return clf, X, path


def _lower_id_first(utilities, k):
    return np.lexsort((np.arange(utilities.size), -utilities))[:k]


@pytest.mark.parametrize("strategy", UTILITY_SAMPLED)
def test_same_ids_for_any_chunk_size(pool, strategy):
    clf, X, path = pool
    ids = {
        rows: score_out_of_core(clf, path, 20, strategy=strategy, chunk_rows=rows,
                                random_state=0).ids.tolist()
        for rows in (2400, 1000, 333, 64)
    }
    assert ids[1000] == ids[2400] and ids[333] == ids[2400] and ids[64] == ids[2400]
    # and they are the choice of one query over the whole pool with the same key
    key = int(np.random.RandomState(0).randint(0, 2**31 - 1))
    whole = utilities_once(clf, X, None, strategy, random_state=0,
                           extras={"query_seed": key})
    assert _lower_id_first(whole, 20).tolist() == ids[2400]


def test_candidate_ids_and_chunks_agree(pool):
    clf, X, path = pool
    cand = np.arange(1, 2400, 3)
    a = score_out_of_core(clf, path, 10, strategy="power_bald", candidate_ids=cand,
                          chunk_rows=2400, random_state=4)
    b = score_out_of_core(clf, path, 10, strategy="power_bald", candidate_ids=cand,
                          chunk_rows=97, random_state=4)
    assert a.ids.tolist() == b.ids.tolist() and set(a.ids.tolist()) <= set(cand.tolist())
    c = score_out_of_core(clf, path, 10, strategy="epig", candidate_ids=cand,
                          chunk_rows=2400, random_state=4)
    d = score_out_of_core(clf, path, 10, strategy="epig", candidate_ids=cand,
                          chunk_rows=97, random_state=4)
    assert c.ids.tolist() == d.ids.tolist()


def test_batchbald_runs_out_of_core_after_a_bald_prefilter(pool):
    from activelab.strategies.bayesian import BatchBALD
    from activelab.strategies.query import query_once

    clf, X, path = pool
    ids = [score_out_of_core(clf, path, 8, strategy=BatchBALD(prefilter=60, random_state=0),
                             chunk_rows=rows, random_state=0) for rows in (2400, 500, 77)]
    assert ids[0].ids.tolist() == ids[1].ids.tolist() == ids[2].ids.tolist()
    assert ids[0].info["prefiltered"] == 60 and ids[0].strategy == "batchbald"
    whole = query_once(clf, X, None, BatchBALD(prefilter=60, random_state=0), 8)
    assert whole.ids.tolist() == ids[0].ids.tolist()
    with pytest.raises(ValueError, match="prefilter"):
        score_out_of_core(clf, path, 5, strategy="batchbald")

"""Oracles: simulated, noisy, terminal and wrapped functions."""

from __future__ import annotations

import numpy as np
import pytest

from activelab.oracles import (
    CallableOracle,
    NoisyOracle,
    Oracle,
    OracleAnswer,
    SimulatedOracle,
    TerminalOracle,
    as_oracle,
)
from activelab.pool import Pool


def three_sigma(p: float, n: int) -> float:
    return 3.0 * np.sqrt(p * (1.0 - p) / n)


# ------------------------------------------------------------------ simulated
def test_simulated_oracle_returns_true_labels_in_asked_order():
    y = np.array(["a", "b", "c", "a", "b"])
    pool = Pool(np.zeros((5, 2)))
    oracle = SimulatedOracle(y)
    answer = oracle.label(np.array([4, 0, 2]), pool)
    assert isinstance(answer, OracleAnswer)
    assert answer.ids.tolist() == [4, 0, 2]
    assert answer.labels.tolist() == ["b", "a", "c"]
    assert answer.skipped.size == 0 and answer.stop is False
    assert oracle.n_labeled_ == 3


def test_simulated_oracle_rejects_wrong_sizes_and_ids():
    oracle = SimulatedOracle(np.array([0, 1, 0]))
    with pytest.raises(ValueError, match="pool has 4 items"):
        oracle.label(np.array([0]), Pool(np.zeros((4, 1))))
    with pytest.raises(ValueError, match="between 0 and 2"):
        oracle.label(np.array([3]), Pool(np.zeros((3, 1))))
    with pytest.raises(TypeError, match="integer pool ids"):
        oracle.label(np.array([0.5]), Pool(np.zeros((3, 1))))
    with pytest.raises(ValueError, match="NaN"):
        SimulatedOracle(np.array([0.0, np.nan]))


def test_oracle_answer_checks_lengths():
    with pytest.raises(ValueError, match="one label per labeled id"):
        OracleAnswer(ids=np.array([1, 2]), labels=np.array(["a"]))


# ---------------------------------------------------------------------- noisy
@pytest.mark.parametrize("n_classes, rate", [(2, 0.2), (5, 0.3)])
def test_noisy_oracle_flip_rate_and_never_true_label(n_classes, rate):
    n = 20_000
    y = np.arange(n) % n_classes
    oracle = NoisyOracle(y, error_rate=rate, random_state=0)
    answer = oracle.label(np.arange(n), None)
    corrupted = oracle.corrupted_ids_
    wrong = np.flatnonzero(answer.labels != y)
    # the corrupted ids are exactly the wrong answers, and never the true label
    assert np.array_equal(np.sort(corrupted), wrong)
    assert np.all(answer.labels[corrupted] != y[corrupted])
    kept = np.setdiff1d(np.arange(n), corrupted)
    assert np.array_equal(answer.labels[kept], y[kept])
    assert abs(corrupted.size / n - rate) < three_sigma(rate, n)
    # the accounting adds up
    assert oracle.n_labeled_ == n and oracle.n_asked_ == n
    assert oracle.n_corrupted_ == corrupted.size
    off = oracle.flip_counts_.sum() - np.trace(oracle.flip_counts_)
    assert off == corrupted.size and oracle.flip_counts_.sum() == n
    assert oracle.observed_error_rate_ == corrupted.size / n


def test_noisy_oracle_multiclass_wrong_labels_are_uniform_over_other_classes():
    n = 20_000
    y = np.zeros(n, dtype=np.int64)
    y[: n // 2] = 0
    y[n // 2:] = 3
    oracle = NoisyOracle(y, error_rate=0.6, random_state=1, classes=[0, 1, 2, 3])
    oracle.label(np.arange(n), None)
    counts = oracle.flip_counts_[0]  # true class 0, n/2 items
    assert counts[0] > 0
    for j in (1, 2, 3):
        p = 0.6 / 3
        assert abs(counts[j] / (n // 2) - p) < three_sigma(p, n // 2)


def test_noisy_oracle_string_labels_and_repeat_asks_are_stable():
    y = np.array(["spam", "ham"] * 50)
    oracle = NoisyOracle(y, error_rate=0.5, random_state=3)
    first = oracle.label(np.arange(100), Pool(np.zeros((100, 1))))
    again = oracle.label(np.arange(99, -1, -1), None)
    assert set(first.labels.tolist()) <= {"spam", "ham"}
    assert np.array_equal(again.labels[::-1], first.labels)
    assert oracle.n_labeled_ == 200 and oracle.n_asked_ == 100


def test_noisy_oracle_corrupted_ids_follow_asking_order_and_seed():
    y = np.arange(1000) % 2
    ids = np.random.RandomState(0).permutation(1000)
    a = NoisyOracle(y, error_rate=0.3, random_state=7)
    b = NoisyOracle(y, error_rate=0.3, random_state=7)
    a.label(ids, None)
    b.label(ids, None)
    assert np.array_equal(a.corrupted_ids_, b.corrupted_ids_)
    position = np.empty(1000, dtype=np.int64)
    position[ids] = np.arange(1000)
    assert np.all(np.diff(position[a.corrupted_ids_]) > 0)


def test_noisy_oracle_extreme_rates():
    y = np.array([0, 1, 1, 0, 1])
    assert np.array_equal(NoisyOracle(y, 0.0, random_state=0).label(np.arange(5), None).labels, y)
    assert np.array_equal(NoisyOracle(y, 1.0, random_state=0).label(np.arange(5), None).labels,
                          1 - y)


def test_noise_matrix_is_respected():
    per_class = 10_000
    y = np.repeat(np.array(["a", "b", "c"]), per_class)
    flips = np.array([[0.0, 0.3, 0.0],   # a -> b 30 %, never c
                      [0.0, 0.0, 0.0],   # b is never corrupted
                      [0.1, 0.15, 0.0]])  # c -> a 10 %, c -> b 15 %
    oracle = NoisyOracle(y, noise_matrix=flips, random_state=0)
    answer = oracle.label(np.arange(y.size), None)
    counts = oracle.flip_counts_ / per_class
    assert oracle.flip_counts_[0, 2] == 0
    assert np.array_equal(oracle.flip_counts_[1], [0, per_class, 0])
    for (i, j) in [(0, 1), (2, 0), (2, 1)]:
        assert abs(counts[i, j] - flips[i, j]) < three_sigma(flips[i, j], per_class)
    corrupted = oracle.corrupted_ids_
    assert np.all(answer.labels[corrupted] != y[corrupted])
    # the same matrix written with its keep probabilities on the diagonal is the same noise
    keep = flips + np.diag(1.0 - flips.sum(axis=1))
    same = NoisyOracle(y, noise_matrix=keep, random_state=0)
    assert np.allclose(same.transition_, oracle.transition_)
    assert np.array_equal(same.label(np.arange(y.size), None).labels, answer.labels)


@pytest.mark.parametrize(
    "matrix, message",
    [
        ([[0.0, -0.1], [0.0, 0.0]], "non-negative"),
        ([[0.0, 1.2], [0.0, 0.0]], "at most 1"),
        ([[0.5, 0.2], [0.0, 0.0]], "diagonal"),
        ([[0.0, 0.1, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], "shape"),
    ],
)
def test_noise_matrix_validation(matrix, message):
    with pytest.raises(ValueError, match=message):
        NoisyOracle(np.array([0, 1, 0]), noise_matrix=matrix)


def test_noisy_oracle_rate_validation():
    with pytest.raises(ValueError, match=r"error_rate must be in \[0, 1\]"):
        NoisyOracle(np.array([0, 1]), error_rate=1.5)
    with pytest.raises(TypeError, match="error_rate"):
        NoisyOracle(np.array([0, 1]), error_rate="high")
    with pytest.raises(ValueError, match="single class"):
        NoisyOracle(np.array([1, 1, 1]), error_rate=0.1)
    with pytest.raises(ValueError, match="not in classes"):
        NoisyOracle(np.array([0, 1, 2]), classes=[0, 1])


# ------------------------------------------------------------------- terminal
def scripted(answers):
    it = iter(answers)
    prompts: list[str] = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return next(it)

    return ask, prompts


def test_terminal_oracle_label_invalid_skip_quit():
    texts = [f"text number {i}" for i in range(8)]
    pool = Pool(np.zeros((8, 2)), raw=texts, keys=[f"k{i}" for i in range(8)])
    ask, prompts = scripted(["cat", "bird", "1", "s", "q"])
    shown: list[str] = []
    oracle = TerminalOracle(["cat", "dog"], input=ask, output=shown.append)
    answer = oracle.label(np.array([5, 3, 7, 1, 2]), pool)
    assert answer.ids.tolist() == [5, 3]
    assert answer.labels.tolist() == ["cat", "dog"]
    assert answer.skipped.tolist() == [7]
    assert answer.stop is True
    assert len(prompts) == 5  # the invalid answer was asked again
    text = "\n".join(shown)
    assert "text number 5" in text and "k5" in text and "text number 2" not in text
    assert "not a known class" in text
    assert "[0] cat" in prompts[0] and "s = skip" in prompts[0]
    assert oracle.n_labeled_ == 2 and oracle.n_skipped_ == 1


def test_terminal_oracle_numeric_classes_are_typed_by_name():
    pool = Pool(np.array([[1.5, 2.0], [3.0, 4.25]]))
    ask, prompts = scripted(["5", "2", "0"])
    shown: list[str] = []
    oracle = TerminalOracle([0, 2, 7], input=ask, output=shown.append)
    answer = oracle.label(np.array([1, 0]), pool)
    # "5" is neither a class nor accepted as a position (classes look like numbers)
    assert answer.labels.tolist() == [2, 0]
    assert answer.labels.dtype.kind == "i"
    assert "3, 4.25" in "\n".join(shown)
    assert "[0]" not in prompts[0]


def test_terminal_oracle_end_of_input_quits_and_custom_display():
    pool = Pool(np.zeros((3, 1)))

    def ask(prompt: str) -> str:
        raise EOFError

    shown: list[str] = []
    oracle = TerminalOracle(["x", "y"], display=lambda i, p: f"item #{i}", input=ask,
                            output=shown.append)
    answer = oracle.label(np.array([2, 1]), pool)
    assert answer.stop is True and answer.ids.size == 0 and answer.skipped.size == 0
    assert "item #2" in shown


def test_terminal_oracle_rejects_bad_classes():
    with pytest.raises(ValueError, match="distinct"):
        TerminalOracle(["a", "a"])
    with pytest.raises(ValueError, match="skip and quit"):
        TerminalOracle(["s", "t"])


# ------------------------------------------------------------------ as_oracle
def test_as_oracle_wraps_a_function_with_the_rows_of_the_ids():
    X = np.arange(20, dtype=float).reshape(10, 2)
    pool = Pool(X)
    seen = {}

    def annotate(ids, rows):
        seen["ids"], seen["rows"] = ids.copy(), np.asarray(rows)
        return np.where(rows[:, 0] > 9, "big", "small")

    oracle = as_oracle(annotate)
    assert isinstance(oracle, CallableOracle)
    answer = oracle.label(np.array([7, 1, 4]), pool)
    assert np.array_equal(seen["rows"], X[[7, 1, 4]])
    assert answer.ids.tolist() == [7, 1, 4]
    assert answer.labels.tolist() == ["big", "small", "small"]


def test_as_oracle_function_may_skip_with_none_and_must_match_length():
    pool = Pool(np.zeros((5, 1)))
    oracle = as_oracle(lambda ids, rows: [None if i == 3 else int(i % 2) for i in ids])
    answer = oracle.label(np.array([1, 3, 4]), pool)
    assert answer.ids.tolist() == [1, 4] and answer.labels.tolist() == [1, 0]
    assert answer.skipped.tolist() == [3]
    with pytest.raises(ValueError, match="one label per id"):
        as_oracle(lambda ids, rows: [0]).label(np.array([1, 2]), pool)


def test_as_oracle_passes_oracles_and_arrays_and_rejects_others():
    sim = SimulatedOracle([0, 1])
    assert as_oracle(sim) is sim
    assert isinstance(as_oracle(np.array([0, 1, 1])), SimulatedOracle)
    assert isinstance(sim, Oracle)
    with pytest.raises(TypeError, match="oracle must be"):
        as_oracle(42)


# ------------------------------------------------------------------ checking answers
def test_check_answer_returns_ids_labels_skipped_and_stop():
    from activelab.oracles import check_answer

    asked = np.array([4, 2, 9, 7])
    answer = OracleAnswer(ids=[2, 4], labels=["b", "a"], skipped=[9])
    got, labels, skipped, stop = check_answer(answer, asked)
    assert got.tolist() == [2, 4] and labels.tolist() == ["b", "a"]
    assert labels.dtype == object
    assert skipped.tolist() == [9, 7] and stop is False  # 7 was not answered: skipped
    stopped = OracleAnswer(ids=[4], labels=["a"], stop=True)
    got, _, skipped, stop = check_answer(stopped, asked)
    assert got.tolist() == [4] and skipped.tolist() == [] and stop is True


def test_check_answer_names_what_is_wrong():
    from activelab.oracles import check_answer

    class Loose:  # any object with the answer's attributes, unchecked by OracleAnswer
        def __init__(self, ids, labels, skipped=()):
            self.ids, self.labels, self.skipped = ids, labels, skipped

    asked = np.array([1, 2, 3])
    with pytest.raises(ValueError, match="returned 2 ids but 1 labels"):
        check_answer(Loose([1, 2], ["a"]), asked)
    with pytest.raises(ValueError, match=r"answered ids \[8\] it was not asked about"):
        check_answer(Loose([1, 8], ["a", "b"]), asked)
    with pytest.raises(ValueError, match="answered an id twice"):
        check_answer(Loose([1, 2], ["a", "b"], skipped=[2]), asked)


def test_recall_brings_a_noisy_oracle_to_the_state_it_had():
    y = np.array([0, 1] * 50)
    first = NoisyOracle(y, error_rate=0.4, random_state=3)
    a = first.label(np.arange(0, 40), None)
    b = first.label(np.arange(40, 100), None)
    again = NoisyOracle(y, error_rate=0.4, random_state=3)
    again.recall(a.ids, a.labels)  # told what the first 40 answers were
    assert again.label(np.arange(40, 100), None).labels.tolist() == b.labels.tolist()
    assert again.corrupted_ids_.tolist() == first.corrupted_ids_.tolist()
    assert again.n_labeled_ == first.n_labeled_ == 100
    other = NoisyOracle(y, error_rate=0.4, random_state=4)
    with pytest.raises(ValueError, match="labels differ from those in the log"):
        other.recall(a.ids, a.labels)


def test_recall_asks_nobody():
    answers = iter([])
    oracle = TerminalOracle(["cat", "dog"], input=lambda prompt: next(answers),
                            output=lambda text: None)
    oracle.recall(np.array([0, 1]), np.array(["cat", "dog"]))  # no prompt is shown
    assert oracle.n_labeled_ == 0
    assert Oracle().recall(np.array([0]), np.array(["a"])) is None

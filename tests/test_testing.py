"""The public contract checks: every built-in passes, every broken implementation fails
with the rule it breaks (so that the checks cannot pass silently)."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest

from activelab import available_strategies, get_strategy
from activelab.events import CallbackSink, JSONLSink, ProgressSink, read_events
from activelab.oracles import (
    NoisyOracle,
    Oracle,
    OracleAnswer,
    SimulatedOracle,
    TerminalOracle,
    as_oracle,
)
from activelab.pool import Pool
from activelab.stopping import (
    AllOf,
    AnyOf,
    BudgetExhausted,
    PerformancePlateau,
    StabilizingPredictions,
    StoppingCriterion,
    TimeLimit,
    UncertaintyBelow,
)
from activelab.strategies.base import QueryResult, Strategy, UtilityStrategy, top_k
from activelab.testing import check_oracle, check_sink, check_stopping, check_strategy


# ------------------------------------------------------------------------- strategies
def _builtin(name):
    # expected_error refits a model per candidate and label: fewer candidates keep it fast
    return get_strategy("expected_error", n_candidates=8) if name == "expected_error" else name


@pytest.mark.parametrize("name", available_strategies())
def test_every_builtin_strategy_passes(name):
    check_strategy(_builtin(name))


def test_strategy_objects_and_classes_are_checked_too():
    check_strategy(get_strategy("hybrid", factor=3, utility="entropy"))
    check_strategy(type(get_strategy("margin")))


class _Margin(UtilityStrategy):
    name = "test_margin"
    needs = frozenset({"proba"})

    def utility(self, context):
        p = np.sort(context.proba, axis=1)
        return 1.0 - (p[:, -1] - p[:, -2])


class ReturnsTuple(_Margin):
    def select(self, context, n_instances):
        result = super().select(context, n_instances)
        return result.ids, result.utilities


class ReturnsPositions(_Margin):
    def select(self, context, n_instances):
        u = self.utility(context)
        positions = top_k(u, n_instances, self.random_state)
        return QueryResult(positions, context.candidate_ids, u, self.name)


class SortsIdsFirst(_Margin):
    """Maps positions through the *sorted* ids: right only while the ids are sorted."""

    def select(self, context, n_instances):
        u = self.utility(context)
        positions = top_k(u, n_instances, self.random_state)
        ids = np.sort(context.candidate_ids)[positions]
        return QueryResult(ids, context.candidate_ids, u, self.name)


class RepeatsAnId(_Margin):
    def select(self, context, n_instances):
        result = super().select(context, n_instances)
        ids = np.concatenate([result.ids[:1], result.ids[:-1]])
        return QueryResult(ids, result.candidate_ids, result.utilities, self.name)


class OneTooFew(_Margin):
    def select(self, context, n_instances):
        result = super().select(context, n_instances)
        return QueryResult(result.ids[:-1], result.candidate_ids, result.utilities, self.name)


class UtilitiesOfTheChosenOnly(_Margin):
    def select(self, context, n_instances):
        result = super().select(context, n_instances)
        return QueryResult(result.ids, result.candidate_ids, result.utility_of(result.ids),
                           self.name)


class Unseeded(_Margin):
    def utility(self, context):
        return np.random.rand(len(context))  # noqa: NPY002  (the global generator: the bug)


class FixedLength(_Margin):
    def utility(self, context):
        return np.linspace(0.0, 1.0, 40)  # right only for 40 candidates


class ReadsUndeclaredFeatures(_Margin):
    def utility(self, context):
        return super().utility(context) + np.asarray(context.X).sum(axis=1) * 1e-9


class NeedsAString(_Margin):
    needs = "proba"


class UnknownNeed(_Margin):
    needs = frozenset({"probabilities"})


class SortsProbaInPlace(_Margin):
    def utility(self, context):
        context.proba.sort(axis=1)
        return super().utility(context)


class RefitsTheModel(_Margin):
    needs = frozenset({"proba", "estimator", "labeled"})

    def utility(self, context):
        context.estimator.set_params(C=1e-4).fit(context.X_labeled, context.y_labeled)
        return super().utility(context)


class AcceptsAnyBatchSize(Strategy):
    name = "test_first_n"

    def select(self, context, n_instances):
        ids = context.candidate_ids[:n_instances]
        return QueryResult(ids, context.candidate_ids, np.zeros(len(context)), self.name)


@pytest.mark.parametrize("broken, message", [
    (ReturnsTuple, "must return a QueryResult.*got tuple"),
    (ReturnsPositions, r"among the candidate ids.*\[\d+, \d+, \d+\] are not candidates"),
    (SortsIdsFirst, "ids must follow the candidates' rows with candidate ids that are not 0"),
    (RepeatsAnId, "ids must be unique"),
    (OneTooFew, "must choose n_instances ids.*asked for 3, got 2"),
    (UtilitiesOfTheChosenOnly, r"one value per candidate.*shape \(3,\), expected \(40,\)"),
    (Unseeded, "the same random_state must give the same ids"),
    (FixedLength, r"select\(\) failed on context.subset"),
    (ReadsUndeclaredFeatures, r"only what it declares \(needs=\['proba'\]\)"),
    (NeedsAString, "needs must be a set of Needs values.*string 'proba'"),
    (UnknownNeed, "needs must hold Needs values.*'probabilities'"),
    (SortsProbaInPlace, "must not change its inputs: proba changed"),
    (RefitsTheModel, "must not change its inputs: the model's predictions changed"),
    (AcceptsAnyBatchSize, "n_instances=0 must be refused with ValueError.*nothing was raised"),
])
def test_broken_strategies_fail_with_the_rule_they_break(broken, message):
    with pytest.raises(AssertionError, match=message):
        check_strategy(broken())


def test_the_strategy_checks_left_the_shared_model_alone():
    # a broken strategy refitted its copy; the next check sees the original model
    with pytest.raises(AssertionError):
        check_strategy(RefitsTheModel())
    check_strategy("badge")
    check_strategy(_Margin())


# ---------------------------------------------------------------------------- oracles
def test_builtin_oracles_pass():
    check_oracle(SimulatedOracle)
    check_oracle(lambda y: NoisyOracle(y, error_rate=0.5, random_state=0))
    check_oracle(lambda y: as_oracle(lambda ids, rows: y[ids]))
    check_oracle(lambda y: as_oracle(lambda ids, rows: [None if i % 2 else y[i] for i in ids]))
    check_oracle(SimulatedOracle(np.arange(10) % 2), pool=Pool(np.eye(10)), ids=[9, 1, 4])


def _terminal(answers):
    replies = iter(answers)
    return TerminalOracle([0, 1, 2], input=lambda prompt: next(replies),
                          output=lambda text: None)


def test_terminal_oracle_passes_with_skips_and_a_quit():
    check_oracle(_terminal(["0", "s", "2", "1", "s", "0"]))
    check_oracle(_terminal(["1", "s", "q"]))  # stops after two of the six ids


class _Answers(Oracle):
    def __init__(self, answer):
        self.answer = answer

    def label(self, ids, pool):
        return self.answer(np.asarray(ids), np.arange(pool.n_samples) % 3)


def _short_labels(ids, y):
    answer = OracleAnswer(ids, y[ids])
    answer.labels = answer.labels[:-1]
    return answer


def _sort_in_place(ids, y):
    ids.sort()
    return OracleAnswer(ids, y[ids])


@pytest.mark.parametrize("answer, message", [
    (lambda ids, y: list(y[ids]), "must return an OracleAnswer.*got list"),
    (lambda ids, y: OracleAnswer(np.r_[ids, 1], y[np.r_[ids, 1]]),
     r"only the asked ids.*\[1\] were not asked"),
    (lambda ids, y: OracleAnswer(ids[:-1], y[ids[:-1]]), "must be the ids asked"),
    (lambda ids, y: OracleAnswer(ids[2:4], y[ids[2:4]], stop=True),
     r"the first ones, when the oracle asks to stop.*stop=True"),
    (lambda ids, y: OracleAnswer(np.sort(ids), y[np.sort(ids)]), "in the order asked"),
    (lambda ids, y: OracleAnswer(ids, y[ids], skipped=ids[:1]), "labeled or skipped once"),
    (_short_labels, "one label per labeled id"),
    (_sort_in_place, "must not change the ids it is given"),
])
def test_broken_oracles_fail_with_the_rule_they_break(answer, message):
    with pytest.raises(AssertionError, match=message):
        check_oracle(_Answers(answer))


def test_an_oracle_factory_must_answer_with_known_classes():
    with pytest.raises(AssertionError, match=r"classes of the true labels.*not among \[0, 1, 2\]"):
        check_oracle(lambda y: as_oracle(lambda ids, rows: y[ids] + 10))
    with pytest.raises(AssertionError, match=r"label\(ids, pool\) failed: ValueError"):
        check_oracle(lambda y: SimulatedOracle(y[:10]))  # labels for another pool
    with pytest.raises(ValueError, match="give pool only with an oracle object"):
        check_oracle(SimulatedOracle, pool=Pool(np.eye(3)))


# --------------------------------------------------------------------------- stopping
@pytest.mark.parametrize("criterion", [
    BudgetExhausted(30),
    BudgetExhausted(1000),
    PerformancePlateau(window=2, threshold=0.05),
    UncertaintyBelow(0.5),
    UncertaintyBelow(0.9, sample_size=20),
    TimeLimit(2.5),
    StabilizingPredictions(stop_set_size=20, window=2, threshold=0.9),
    BudgetExhausted(40) | TimeLimit(2.0),
    AllOf(BudgetExhausted(20), TimeLimit(4.0)),
    AnyOf(StabilizingPredictions(stop_set_size=30, window=1), UncertaintyBelow(0.2)),
], ids=repr)
def test_builtin_stopping_rules_pass(criterion):
    check_stopping(criterion)


class _Counts(StoppingCriterion):
    """Fires once it has seen three rounds."""

    name = "counts"

    def __init__(self):
        super().__init__()
        self.seen = 0

    def _check(self, state):
        self.seen += 1
        return "three rounds seen" if self.seen >= 3 else None

    def reset(self):
        super().reset()
        self.seen = 0
        return self


class SaysYes(_Counts):
    def should_stop(self, state):
        return "yes"


class FiresWithoutReason(_Counts):
    def should_stop(self, state):
        super().should_stop(state)
        self.reason = None
        return state.round >= 2


class KeepsAStaleReason(_Counts):
    def should_stop(self, state):
        fired = super().should_stop(state)
        self.reason = self.reason or "not yet"
        return fired


class Flaky(_Counts):
    def should_stop(self, state):
        self.seen += 1
        self.reason = "odd call" if self.seen % 2 else None
        return bool(self.seen % 2)


class ForgetsToReset(_Counts):
    def reset(self):
        StoppingCriterion.reset(self)
        return self


class ResetReturnsNothing(_Counts):
    def reset(self):
        super().reset()


class HoldsALock(_Counts):
    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()


class IgnoresTheOtherInAnd(_Counts):
    def __and__(self, other):
        return self


class FailsLater(_Counts):
    def _check(self, state):
        if len(state.history) > 3:
            raise KeyError("metrics")
        return None


class DuckCriterion:
    reason = None

    def should_stop(self, state):
        return False


@pytest.mark.parametrize("broken, message", [
    (SaysYes, "must return a bool.*got str"),
    (FiresWithoutReason, "reason must say why when it fires.*round 2"),
    (KeepsAStaleReason, "reason must be None when it does not fire.*'not yet'"),
    (Flaky, "asked twice in one round it must answer the same"),
    (ForgetsToReset, r"after reset\(\) it must decide as a fresh criterion"),
    (ResetReturnsNothing, r"reset\(\) must return the criterion itself"),
    (HoldsALock, "copy.deepcopy, which failed"),
    (IgnoresTheOtherInAnd, "c & never must fire exactly when expected"),
    (FailsLater, r"should_stop\(\) failed in round 3: KeyError"),
    (DuckCriterion, "must subclass activelab.StoppingCriterion"),
])
def test_broken_stopping_rules_fail_with_the_rule_they_break(broken, message):
    with pytest.raises(AssertionError, match=message):
        check_stopping(broken())


def test_the_counting_criterion_itself_passes():
    check_stopping(_Counts())  # so each failure above comes from the broken part


# ------------------------------------------------------------------------------ sinks
def test_builtin_sinks_pass(tmp_path):
    path = tmp_path / "events.jsonl"
    check_sink(lambda: JSONLSink(path))
    kinds = [e["event"] for e in read_events(path)]
    assert kinds[0] == "run_start" and kinds.count("run_end") == 1
    assert kinds[-1] == "run_start"  # the event emitted after close() was appended
    seen = []
    check_sink(lambda: CallbackSink(seen.append))
    assert {e["event"] for e in seen} == {"run_start", "round", "run_end"}
    stream = io.StringIO()
    check_sink(lambda: ProgressSink(stream=stream))
    assert "stopped after 45 labels" in stream.getvalue()
    check_sink(CallbackSink(lambda event: None, events=["round"]))


class _ListSink:
    def __init__(self):
        self.events = []
        self.closed = 0

    def emit(self, event):
        self.events.append(event)

    def close(self):
        self.closed += 1


class NoClose:
    def emit(self, event):
        pass


class FailsOnRunEnd(_ListSink):
    def emit(self, event):
        if event["event"] == "run_end":
            raise KeyError("stopped_by")
        super().emit(event)


class PopsTheKind(_ListSink):
    def emit(self, event):
        event.pop("event")


class ClosesOnce(_ListSink):
    def close(self):
        if self.closed:
            raise RuntimeError("already closed")
        super().close()


class NotReusable(_ListSink):
    def emit(self, event):
        if self.closed:
            raise ValueError("I/O operation on closed file")
        super().emit(event)


@pytest.mark.parametrize("broken, message", [
    (NoClose, r"a sink must have close\(\)"),
    (FailsOnRunEnd, r"emit\(\) failed on a 'run_end' event: KeyError"),
    (PopsTheKind, r"emit\(\) must not change the event"),
    (ClosesOnce, r"close\(\) must be safe to call twice; the second call failed"),
    (NotReusable, r"after close\(\) \(a closed sink may be used again\), emit\(\) failed"),
])
def test_broken_sinks_fail_with_the_rule_they_break(broken, message):
    with pytest.raises(AssertionError, match=message):
        check_sink(broken)


def test_the_list_sink_itself_passes():
    sink = _ListSink()
    check_sink(sink)
    assert sink.closed == 3
    assert [e["event"] for e in sink.events][:1] + [sink.events[-1]["event"]] == [
        "run_start", "run_start"]

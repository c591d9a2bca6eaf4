"""The live verdict next to the test-set truth in the simulate and benchmark summaries."""

import activelab as al
from activelab.lab.live import benchmark_verdict_lines, simulation_verdict_lines
from activelab.strategies.selector import live_accuracy, live_verdict


def test_simulation_and_benchmark_lines(tmp_path):
    result = al.simulate("wine", strategies="auto,margin", seeds=2, budget=60, progress=False)
    lines = simulation_verdict_lines(result)
    assert len(lines) == 1  # margin keeps no verdict
    assert lines[0].startswith("live verdict of auto (no test labels,")
    assert "test set: ΔAULC vs random" in lines[0]
    st = result.runs["auto"][0].learner.strategy_
    assert live_verdict(st).n == st.verdict_.n and live_accuracy(st)[3] >= 1

    from activelab.lab.config import BenchmarkConfig
    from activelab.lab.runner import run_benchmark

    cfg = BenchmarkConfig(datasets=["wine"], strategies=["auto"], seeds=2, budget=60,
                          format="csv")
    run_benchmark(cfg, tmp_path, n_jobs=1)
    (line,) = benchmark_verdict_lines(tmp_path)
    assert line.startswith("wine (logreg): live verdict of auto")
    assert "2 runs" in line and "test set: ΔAULC vs random" in line

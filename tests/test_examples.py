"""Each script in examples/ runs (in its small mode) and prints what it should.

The scripts are run as a user would run them, in a subprocess; their printed numbers are
parsed and checked for the accounting they claim (labels per run, ids, quotas, costs).
The code blocks of the user guide are run the same way.  Each subprocess takes a few
seconds, so those tests are marked ``slow`` (``-m "not slow"`` leaves them out).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NUMBER = r"(-?\d+(?:\.\d+)?)"


def run_example(name: str, *args: str, env: dict[str, str] | None = None) -> str:
    path = EXAMPLES / name
    assert path.is_file(), f"missing example {path}"
    full_env = {**os.environ, "MPLBACKEND": "Agg", **(env or {})}
    proc = subprocess.run(
        [sys.executable, str(path), *args], capture_output=True, text=True, env=full_env,
        timeout=120, cwd=EXAMPLES.parent,
    )
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def numbers_after(label: str, text: str) -> list[float]:
    """Every number on the line that starts with ``label`` (after the label)."""
    for line in text.splitlines():
        if line.strip().startswith(label):
            return [float(x) for x in re.findall(NUMBER, line.strip()[len(label):])]
    raise AssertionError(f"no line starting with {label!r} in:\n{text}")


def test_every_example_is_tested():
    tested = {
        "lecture_modal_style.py", "lecture_complete_example.py", "cold_start_and_stopping.py",
        "noisy_oracle.py", "domain_adaptation.py", "imbalanced_class_balanced.py",
        "cost_analysis.py",
    }
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


@pytest.mark.slow
def test_lecture_complete_example():
    out = run_example("lecture_complete_example.py", "--small")
    rows = re.findall(r"^\s+(\d+)\s+(\d+)\s+([01]\.\d{3})\s+([01]\.\d{3})$", out, re.M)
    # 20 iterations: fits at 20, 30, ..., 210 labels
    assert [int(r[0]) for r in rows] == list(range(20))
    assert [int(r[1]) for r in rows] == list(range(20, 211, 10))
    assert rows[0][2] == rows[0][3]  # both start from the same 20 initial labels
    assert "iterations: 20, labels used: 210 (initial 20 + 19 batches of 10)" in out
    assert "over 3 seeds" in out
    lc = numbers_after("least_confident: AULC", out)
    rnd = numbers_after("random: AULC", out)
    for mean, low, high in (lc[:3], rnd[:3]):
        assert low <= mean <= high
    reached = numbers_after("least_confident:", out.split("labels to reach")[1])
    assert reached[2] == 3 and 0 <= reached[1] <= 3  # "reached in k/3 seeds"


@pytest.mark.slow
def test_lecture_modal_style():
    out = run_example("lecture_modal_style.py", "--small")
    assert numbers_after("ActiveLearner, 20 labels: accuracy", out)[0] < 1
    assert "ActiveLearner, 50 labels" in out  # 20 initial + 3 queries of 10
    assert "training set size 50 = labeled ids 50" in out
    picks = re.search(r"least_confident picks pool ids \[([\d, ]+)\] with utilities \[([^\]]+)\]",
                      out)
    ids = [int(x) for x in picks.group(1).split(",")]
    utilities = [float(x) for x in picks.group(2).split(",")]
    assert len(set(ids)) == 5
    assert utilities == sorted(utilities, reverse=True)  # most useful first
    for strategy in ("vote_entropy", "consensus_entropy", "kl_max_disagreement"):
        assert f"Committee ({strategy}), 50 labels: accuracy" in out


@pytest.mark.slow
def test_cold_start_and_stopping():
    out = run_example("cold_start_and_stopping.py", "--small")
    for method in ("random", "kmeans", "typiclust"):
        seen, acc = numbers_after(method, out)[:2]
        assert 2 <= seen <= 10 and 0 < acc <= 1
    stops = {}
    for name in ("budget", "plateau", "uncertainty", "stabilizing", "time", "any of them"):
        line = next(x for x in out.splitlines() if x.strip().startswith(name + ":"))
        stops[name] = int(re.search(r"stopped at\s+(\d+) labels", line).group(1))
    assert stops["budget"] == 150
    # "any of them" combines plateau | uncertainty | stabilizing | budget: the first to fire
    assert stops["any of them"] == min(
        stops["plateau"], stops["uncertainty"], stops["stabilizing"], stops["budget"]
    )
    assert all(n <= 200 for n in stops.values())  # the cap of the small run


@pytest.mark.slow
def test_noisy_oracle_with_environment_switch():
    out = run_example("noisy_oracle.py", env={"ACTIVELAB_EXAMPLES_SMALL": "1"})
    invalid = re.search(r"invalid classes produced: \[([^\]]*)\]", out).group(1)
    assert invalid and all(int(v) < 0 for v in invalid.split(","))
    assert "all valid classes: True" in out
    assert "at 150 labels, mean over 1 seed\n" in out
    clean = numbers_after("0.0", out)
    assert clean[-1] == 0.0  # no wrong labels without noise
    noisy = numbers_after("0.3", out)
    assert 10 < noisy[-1] < 50  # about 30 % of the labels are wrong
    assert noisy[0] < clean[0]  # and margin's accuracy suffers


@pytest.mark.slow
def test_domain_adaptation():
    out = run_example("domain_adaptation.py", "--small")
    on_target = re.search(r"on source, ([01]\.\d{3}) on the shifted target", out).group(1)
    header = numbers_after("", out.split("mean over 1 seed)")[1].splitlines()[1])
    assert header == [0, 20, 50]
    margin = numbers_after("source + margin", out)
    random = numbers_after("source + random", out)
    # before any target label, both runs are the source model
    assert margin[0] == random[0] == float(on_target)
    assert margin[-1] > margin[0] and random[-1] > random[0]
    assert "target labels asked per run: 60, all from the target pool" in out


@pytest.mark.slow
def test_imbalanced_class_balanced():
    out = run_example("imbalanced_class_balanced.py", "--small")
    assert "[3, 3, 3] -> 9 items" in out  # the lecture's quotas drop one item
    quotas = re.search(r"capacities=\[500, 40, 2\]\): \[([\d, ]+)\] -> (\d+) items", out)
    values = [int(x) for x in quotas.group(1).split(",")]
    assert sum(values) == int(quotas.group(2)) == 10 and values[2] == 2
    rows = {s: numbers_after(s, out) for s in ("class_balanced", "margin", "random")}
    for minority, f1, bal, acc in rows.values():
        assert 0 <= minority <= 100 and 0 < f1 <= 1 and 0 < bal <= 1 and 0 < acc <= 1
    assert rows["class_balanced"][0] > rows["random"][0]


@pytest.mark.slow
def test_cost_analysis():
    out = run_example("cost_analysis.py", "--small")
    assert "10000 labels = 83.3 hours = $1,666.67" in out
    for name in ("margin", "random"):
        labels, low, high, hours, money = numbers_after(name + ":", out)[:5]
        # printed labels are rounded to whole labels: allow half a label of difference
        assert hours == pytest.approx(labels * 30 / 3600, abs=0.5 * 30 / 3600 + 0.005)
        assert money == pytest.approx(labels * 20 * 30 / 3600, abs=0.5 * 20 * 30 / 3600 + 0.005)
        assert low <= labels <= high
    lecture, ours = numbers_after("seed 0, margin: labels to 0.9:", out.replace(
        "lecture's formula", "").replace("labels_to_target", ""))
    assert ours - lecture == 20  # the lecture's formula forgets the 20 initial labels
    assert "target 0.999 (never reached): lecture's formula 0, labels_to_target nan" in out


# ------------------------------------------------------------------ the user guide
GUIDE = EXAMPLES.parent / "docs" / "guide.md"


@pytest.mark.slow
def test_guide_python_blocks_run(tmp_path):
    """Every ```python block of docs/guide.md runs, in order, in one fresh interpreter."""
    text = GUIDE.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 10
    script = tmp_path / "guide_blocks.py"
    script.write_text("\n\n".join(blocks), encoding="utf-8")
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=env, timeout=180, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_guide_lists_every_strategy():
    import activelab as al

    text = GUIDE.read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", text, re.M))
    assert set(al.available_strategies()) <= rows, (
        f"strategies missing from the guide's table: {set(al.available_strategies()) - rows}"
    )


def test_lecture_map_covers_every_sketch_the_lecture_gets_wrong():
    text = (EXAMPLES.parent / "docs" / "lecture-map.md").read_text(encoding="utf-8")
    for fragment in ("1 - labels[i]", "argsort", "n_samples // n_classes", "np.argmax(results",
                     "consensus entropy", "should_stop", "X_test", "model.train()"):
        assert fragment in text, fragment

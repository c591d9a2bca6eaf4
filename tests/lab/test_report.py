"""`activelab report`: the HTML report of a tiny benchmark holds every section."""

from __future__ import annotations

import base64
import re

import pytest

from activelab.lab.config import BenchmarkConfig
from activelab.lab.report import SECTIONS, build_report
from activelab.lab.runner import run_benchmark


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    cfg = BenchmarkConfig(
        name="tiny", datasets=["iris", "wine"], strategies=["random", "margin"],
        models=["logreg"], seeds=3, initial=10, batch_size=10, budget=40, format="csv",
    )
    run_benchmark(cfg, out, n_jobs=1)
    return out


def test_report_has_every_section_and_embedded_pngs(tiny_run):
    path = build_report(tiny_run)
    assert path == tiny_run / "report" / "report.html"
    text = path.read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f'<section id="{section}">' in text
    for heading in ("Verdicts", "Learning curves", "Strategies ranked by AULC",
                    "Labels to target and savings", "Paired tests against random",
                    "Compute time", "Settings"):
        assert f"<h2>{heading}</h2>" in text
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(images) == 2  # one learning-curve figure per dataset
    for data in images:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    pngs = sorted(p.name for p in (tiny_run / "report").glob("*.png"))
    assert pngs == ["curves_iris_logreg.png", "curves_wine_logreg.png"]
    # self-contained: no links to other files or the network
    assert "http://" not in text and "https://" not in text and "<link" not in text


def test_report_verdicts_are_plain_words_with_the_number_of_seeds(tiny_run):
    text = build_report(tiny_run).read_text(encoding="utf-8")
    verdicts = re.findall(r"<li>(.*?)</li>", text)
    assert len(verdicts) == 2
    for v in verdicts:
        assert "3 seeds" in v
        # three seeds can never give p < 0.05, so nothing may be claimed
        assert "no strategy beat random here" in v
        assert "fewer than 6 seeds" in v
    assert "Wilcoxon" in text and "not significantly different" in text


def test_report_to_another_file_and_partial_benchmark(tiny_run, tmp_path):
    # a report can be built while runs are missing: it says how many finished
    (tiny_run / "results" / "wine__margin__logreg__noise00__seed2.json").rename(
        tmp_path / "moved.json"
    )
    try:
        path = build_report(tiny_run, tmp_path / "r" / "out.html")
        text = path.read_text(encoding="utf-8")
        assert "11 of 12 runs finished" in text
        assert (tmp_path / "r" / "curves_iris_logreg.png").is_file()
    finally:
        (tmp_path / "moved.json").rename(
            tiny_run / "results" / "wine__margin__logreg__noise00__seed2.json"
        )


def test_report_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json is missing"):
        build_report(tmp_path)
    cfg = BenchmarkConfig(datasets=["iris"])
    (tmp_path / "config.json").write_text(__import__("json").dumps(cfg.to_dict()))
    with pytest.raises(ValueError, match="no finished runs"):
        build_report(tmp_path)

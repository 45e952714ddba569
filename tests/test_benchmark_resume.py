"""An interrupted benchmark resumes: finished (model, split) fits are kept and only the missing ones are fitted."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pandas as pd
import pytest
from fit_interruptions import count_fits
from feature_tables import write_gtzan_table
from typer.testing import CliRunner

import genre.evaluation.cv as cv
from genre.cli import app
from genre.errors import OutputError
from genre.benchmark import benchmark
from genre.evaluation import cross_validate_models
from genre.benchmark import CHECKPOINT_FOLDER
from genre.evaluation.checkpoint import CheckpointStore, StoredFit, fit_key, input_digest
from genre.features.table import load_feature_table

MODELS = ["logreg", "knn"]
FOLDS = 3  # 2 models x 3 folds = 6 fits


@pytest.fixture
def table_path(tmp_path):
    return write_gtzan_table(tmp_path / "features_30_sec.csv", tracks_per_class=8)


@pytest.fixture
def fits(monkeypatch):
    """Count the real fits; ``fits.fail_at = n`` makes the n-th one raise KeyboardInterrupt (Ctrl-C)."""
    return count_fits(monkeypatch)


@pytest.fixture
def probabilities(monkeypatch):
    """The per-fold test-row probabilities each scored model was given, by model name (latest run)."""
    real = cv._score_model
    seen: dict[str, list[np.ndarray]] = {}

    def recording(name, spec, params, table, splits, outputs, labels, **kwargs):
        seen[name] = [output.proba.copy() for output in outputs]
        return real(name, spec, params, table, splits, outputs, labels, **kwargs)

    monkeypatch.setattr(cv, "_score_model", recording)
    return seen


def scores(results):
    """Everything a fold reports except its times."""
    return {
        m.name: [(f.accuracy, f.balanced_accuracy, f.macro_f1, f.vote_accuracy, f.predictions) for f in m.folds]
        for m in results.models
    }


def test_an_interrupted_benchmark_resumes_with_only_the_missing_fits_and_the_same_results(
    tmp_path, table_path, fits, probabilities, capsys
):
    reference, _ = benchmark(table_path, output_dir=tmp_path / "reference", models=MODELS, folds=FOLDS)
    reference_proba = {name: list(p) for name, p in probabilities.items()}
    assert len(fits.calls) == 6

    out = tmp_path / "report"
    fits.calls, fits.outputs, fits.fail_at = [], [], 3
    with pytest.raises(KeyboardInterrupt):
        benchmark(table_path, output_dir=out, models=MODELS, folds=FOLDS)
    kept = sorted((out / CHECKPOINT_FOLDER).glob("*.npz"))
    assert len(kept) == 2 and not (out / "results.json").exists()
    measured = {(o.model, o.split_index): (o.fit_seconds, o.predict_seconds) for o in fits.outputs}

    fits.calls = []
    capsys.readouterr()
    results, files = benchmark(table_path, output_dir=out, models=MODELS, folds=FOLDS, progress=True)
    assert sorted(fits.calls) == [("knn", 0), ("knn", 1), ("knn", 2), ("logreg", 2)]  # only the missing fits
    assert "resuming: 2 of 6 fits were finished by an interrupted run" in capsys.readouterr().err

    assert scores(results) == scores(reference)
    for name in MODELS:
        for resumed, uninterrupted in zip(probabilities[name], reference_proba[name]):
            np.testing.assert_array_equal(resumed, uninterrupted)
    # Reused fits are measurements of that earlier sitting: their times are kept, and the report says so.
    logreg = next(m for m in results.models if m.name == "logreg")
    assert [(f.fit_seconds, f.predict_seconds) for f in logreg.folds[:2]] == [measured[("logreg", i)] for i in (0, 1)]
    assert results.protocol["resumed_fits"] == 2 and reference.protocol["resumed_fits"] == 0
    assert "2 of 6 fits" in results.protocol["description"] and "interrupted run" in files.markdown.read_text()
    assert json.loads(files.json.read_text())["protocol"]["resumed_fits"] == 2

    # Success removes the checkpoints: a later run measures every fit afresh.
    assert not (out / CHECKPOINT_FOLDER).exists()
    fits.calls = []
    again, _ = benchmark(table_path, output_dir=out, models=MODELS, folds=FOLDS)
    assert len(fits.calls) == 6 and again.protocol["resumed_fits"] == 0 and scores(again) == scores(reference)


def test_without_an_output_folder_nothing_is_kept(tmp_path, table_path, monkeypatch, fits):
    monkeypatch.chdir(tmp_path)
    fits.fail_at = 2
    with pytest.raises(KeyboardInterrupt):
        benchmark(table_path, models=MODELS, folds=FOLDS)
    assert not any(p.name == CHECKPOINT_FOLDER for p in tmp_path.rglob("*"))


def test_a_changed_parameter_seed_table_or_label_order_refits(tmp_path, table_path, fits):
    keep = tmp_path / "keep"
    table = load_feature_table(table_path)

    def run(source=table, **kwargs):
        fits.calls = []
        options = {"folds": FOLDS, "progress": False, "checkpoint_dir": keep, **kwargs}
        return cross_validate_models(source, MODELS, **options)

    first = run()
    assert len(fits.calls) == 6 and len(list(keep.glob("*.npz"))) == 6  # kept: only benchmark() removes them
    assert scores(run()) == scores(first) and fits.calls == []  # the same benchmark: nothing refitted

    run(model_params={"logreg": {"C": 1.0}})
    assert sorted({name for name, _ in fits.calls}) == ["logreg"] and len(fits.calls) == 3

    run(seed=1)
    assert len(fits.calls) == 6

    # One feature value of one track changed: every split trains or tests on it.
    frame = pd.read_csv(table_path)
    frame.loc[0, "mfcc1_mean"] += 0.5
    frame.to_csv(tmp_path / "changed.csv", index=False)
    run(load_feature_table(tmp_path / "changed.csv"))
    assert len(fits.calls) == 6


def test_the_number_of_jobs_does_not_invalidate_kept_fits(tmp_path, table_path, fits):
    keep = tmp_path / "keep"
    table = load_feature_table(table_path)
    # Parallel folds run in worker processes (the counter does not see them): all six are kept as they arrive.
    parallel = cross_validate_models(table, MODELS, folds=FOLDS, jobs=2, progress=False, checkpoint_dir=keep)
    assert len(list(keep.glob("*.npz"))) == 6
    fits.calls = []
    serial = cross_validate_models(table, MODELS, folds=FOLDS, jobs=1, progress=False, checkpoint_dir=keep)
    assert fits.calls == [] and scores(serial) == scores(parallel)


def test_a_damaged_checkpoint_is_fitted_again_not_a_crash(tmp_path, table_path, fits, probabilities):
    keep = tmp_path / "keep"
    table = load_feature_table(table_path)
    cross_validate_models(table, MODELS, folds=FOLDS, progress=False, checkpoint_dir=keep)
    reference = {name: list(p) for name, p in probabilities.items()}
    files = sorted(keep.glob("*.npz"))
    files[0].write_bytes(files[0].read_bytes()[:100])  # truncated by a full disk
    files[1].write_bytes(b"not a zip file at all")
    np.savez(files[2], key=np.array(files[2].stem), proba=np.array([{"a": 1}], dtype=object), seconds=np.zeros(2))
    np.savez(files[3], key=np.array(files[3].stem), proba=np.ones((1, 4)), seconds=np.zeros(2))  # wrong shape
    with np.load(files[4]) as good:  # a whole, well-formed file, but of another fit
        np.savez(files[4], key=np.array("0" * 64), proba=good["proba"], seconds=good["seconds"])

    fits.calls = []
    results = cross_validate_models(table, MODELS, folds=FOLDS, progress=False, checkpoint_dir=keep)
    assert len(fits.calls) == 5 and results.protocol["resumed_fits"] == 1
    for name in MODELS:
        for refitted, original in zip(probabilities[name], reference[name]):
            np.testing.assert_array_equal(refitted, original)
    fits.calls = []
    cross_validate_models(table, MODELS, folds=FOLDS, progress=False, checkpoint_dir=keep)
    assert fits.calls == []  # the damaged files were replaced by good ones


def test_a_checkpoint_that_cannot_be_written_warns_once_and_the_benchmark_goes_on(
    tmp_path, table_path, monkeypatch, fits
):
    import genre.atomic

    def full_disk(path, *args, **kwargs):
        raise OutputError(f"{path}: cannot write (No space left on device); nothing was replaced")

    monkeypatch.setattr(genre.atomic, "atomic_open", full_disk)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = cross_validate_models(
            load_feature_table(table_path), MODELS, folds=FOLDS, progress=False, checkpoint_dir=tmp_path / "keep"
        )
    assert len(results.models) == 2 and len(fits.calls) == 6
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1 and "No space left" in messages[0] and "no longer kept" in messages[0]


def test_a_checkpoint_folder_that_is_a_file_is_refused_before_any_fit(tmp_path, table_path, fits):
    (tmp_path / "keep").write_text("mine")
    with pytest.raises(OutputError, match="is a file"):
        cross_validate_models(load_feature_table(table_path), MODELS, folds=FOLDS, progress=False,
                              checkpoint_dir=tmp_path / "keep")  # fmt: skip
    assert fits.calls == []


def test_removing_checkpoints_leaves_files_that_are_not_ours(tmp_path):
    store = CheckpointStore(tmp_path / "keep")
    key = "a" * 64
    store.save(key, StoredFit(np.full((3, 2), 0.5), 1.0, 0.25))
    stored = store.load(key, n_rows=3, n_labels=2)
    assert stored is not None and (stored.fit_seconds, stored.predict_seconds) == (1.0, 0.25)
    assert store.load(key, n_rows=4, n_labels=2) is None
    (tmp_path / "keep" / f".{key}.npz.x1y2.tmp").write_bytes(b"half")  # a write a kill -9 cut short
    (tmp_path / "keep" / "notes.txt").write_text("mine")
    store.remove()
    assert sorted(p.name for p in (tmp_path / "keep").iterdir()) == ["notes.txt"]
    (tmp_path / "keep" / "notes.txt").unlink()
    store.remove()
    assert not (tmp_path / "keep").exists()


def test_every_ingredient_of_a_fit_changes_its_key(tmp_path):
    X, y, groups = np.arange(12.0).reshape(6, 2), np.array(list("aabbcc")), np.array(list("xyzxyz"))
    base = {
        "model": "svm", "params": {"C": 1.0, "gamma": "scale"}, "seed": 3, "labels": ["a", "b", "c"],
        "inputs": input_digest(X, y, groups), "train": np.array([0, 2, 4]), "test": np.array([1, 3, 5]),
        "versions": {"genre": "0.1.0", "scikit-learn": "1.6.1"},
    }  # fmt: skip
    key = fit_key(**base)
    assert key == fit_key(**{**base, "params": {"gamma": "scale", "C": 1.0}})  # sorted keys
    changed = {
        "model": "logreg", "params": {"C": 2.0, "gamma": "scale"}, "seed": 4, "labels": ["b", "a", "c"],
        "train": np.array([0, 4, 2]), "test": np.array([1, 3]), "versions": {"genre": "0.2.0", "scikit-learn": "1.6.1"},
        "inputs": input_digest(X + np.eye(6, 2), y, groups),
    }  # fmt: skip
    for name, value in changed.items():
        assert fit_key(**{**base, name: value}) != key, name
    assert input_digest(X, np.array(list("aabbca")), groups) != base["inputs"]
    assert input_digest(X, y, np.array(list("xyzxyy"))) != base["inputs"]
    assert input_digest(X.astype(np.float32), y, groups) != base["inputs"]

    # Audio models read the files their segment ids name: editing one changes the digest.
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"RIFF....")
    ids = pd.DataFrame({"path": [str(audio)] * 2, "start": [0.0, 3.0], "track": ["a", "a"]})
    before = input_digest(ids, np.array(["x", "x"]), np.array(["a", "a"]))
    assert before == input_digest(ids.copy(), np.array(["x", "x"]), np.array(["a", "a"]))
    os.utime(audio, ns=(1_000_000_000, 1_000_000_000))
    assert input_digest(ids, np.array(["x", "x"]), np.array(["a", "a"])) != before


def test_the_interrupted_command_says_that_rerunning_it_resumes(tmp_path, table_path, fits):
    out = tmp_path / "report"
    args = ["benchmark", str(table_path), "--models", ",".join(MODELS), "--folds", str(FOLDS), "--jobs", "1",
            "-o", str(out)]  # fmt: skip
    fits.fail_at = 4
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 130
    assert "finished fits are kept" in result.output and "rerun the same command to resume" in result.output
    assert len(list((out / CHECKPOINT_FOLDER).glob("*.npz"))) == 3

    fits.calls = []
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "resuming: 3 of 6 fits" in result.output and len(fits.calls) == 3
    assert not (out / CHECKPOINT_FOLDER).exists()

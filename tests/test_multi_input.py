"""Several inputs in one benchmark: tables matched on tracks, models reading their own table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from feature_tables import write_own_table
from typer.testing import CliRunner

from genre.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def write_musicnn_table(path, handcrafted, *, drop_tracks: int = 0, n_features: int = 6, seed: int = 1):
    """A fake musicnn table of the handcrafted table's tracks (minus the last ``drop_tracks`` per class)."""
    ids = pd.read_csv(handcrafted)[["path", "track", "segment", "start", "label", "group"]]
    keep = ids.groupby("label")["track"].transform(lambda t: t.isin(t.unique()[: len(t.unique()) - drop_tracks]))
    ids = ids[keep].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    centres = {label: rng.normal(0, 2, n_features) for label in ids["label"].unique()}
    values = np.stack([centres[label] + rng.normal(0, 0.7, n_features) for label in ids["label"]])
    columns = [f"musicnn_max_pool_{i:03d}" for i in range(1, n_features + 1)] + ["musicnn_taggram_001"]
    frame = pd.concat([ids, pd.DataFrame(np.c_[values, np.zeros(len(ids))], columns=columns)], axis=1)
    frame.to_csv(path, index=False)
    meta = {"format": "genre-features/1", "kind": "musicnn", "config": {"model": "MSD_musicnn"},
            "id_columns": list(ids.columns), "feature_columns": columns}  # fmt: skip
    path.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
    return path


@pytest.fixture
def tables(tmp_path):
    handcrafted = write_own_table(tmp_path / "features.csv", tracks_per_class=8, segments=2)
    musicnn = write_musicnn_table(tmp_path / "musicnn.csv", handcrafted, drop_tracks=1)
    return handcrafted, musicnn


def test_two_tables_one_report(tmp_path, tables):
    handcrafted, musicnn = tables
    out = tmp_path / "report"
    result = invoke(
        "benchmark", handcrafted, musicnn, "--models", "logreg,musicnn-logreg", "--folds", "3", "--jobs", "1",
        "-o", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "4 tracks are not in every input and are left out (4 of features.csv)" in text
    assert "logreg:" in text and "musicnn-logreg:" in text  # time per model
    data = json.loads((out / "results.json").read_text())
    inputs = {m["name"]: m["input"] for m in data["models"]}
    assert inputs["logreg"].startswith("features.csv (handcrafted")
    assert inputs["musicnn-logreg"].startswith("musicnn.csv (musicnn, musicnn_max_pool_*, 6 of 7 features")
    assert data["dataset"]["n_tracks_common"] == 28 and data["dataset"]["n_tracks_dropped"] == 4
    assert "present in every input" in data["protocol"]["description"]
    # Both models were scored on the same folds of the same 28 tracks: paired tests are valid.
    assert sum(s["n_test_tracks"] for s in data["splits"]) == 28
    assert len(data["pairwise"]) == 1
    for model in data["models"]:
        assert [len(f["predictions"]) for f in model["folds"]] == [s["n_test_tracks"] for s in data["splits"]]
    # The report describes both tables, not only the first.
    assert [t["name"] for t in data["dataset"]["other_tables"]] == ["musicnn.csv"]
    assert "Table musicnn.csv (musicnn): " in " ".join((out / "report.md").read_text().split())


def test_plan_inputs_picks_tables_by_kind(tables):
    from genre.classifiers.registry import get_spec
    from genre.evaluation.inputs import plan_inputs
    from genre.features.table import load_feature_table

    loaded = [load_feature_table(p) for p in tables]
    notes = []
    plan = plan_inputs(loaded, {m: get_spec(m) for m in ("svm", "musicnn-svm")}, note=notes.append)
    assert plan.inputs["svm"].table.kind == "handcrafted" and plan.inputs["musicnn-svm"].X.shape[1] == 6
    assert plan.n_common == 28 and plan.n_dropped == 4 and notes
    assert set(plan.inputs["svm"].table.tracks) == set(plan.inputs["musicnn-svm"].table.tracks)


@pytest.mark.parametrize(
    "models, message",
    [
        ("logreg,cnn", "model cnn needs audio paths; none of the 32 audio files listed in"),
        ("logreg,nope", "unknown model 'nope'"),
        ("musicnn-svm", "model musicnn-svm reads a musicnn table; none of the tables given is one"),
    ],
)
def test_bad_inputs_exit_2(tmp_path, tables, models, message):
    result = invoke("benchmark", tables[0], "--models", models, "--folds", "3", "--jobs", "1", "-o", tmp_path / "o")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and message in " ".join(result.output.split())


def test_table_without_paths_for_cnn(tmp_path):
    from feature_tables import write_gtzan_table

    table = write_gtzan_table(tmp_path / "features_30_sec.csv", tracks_per_class=4)
    result = invoke("benchmark", table, "--models", "cnn", "--folds", "2", "--jobs", "1", "-o", tmp_path / "o")
    assert result.exit_code == 2, result.output
    assert "model cnn needs audio paths; table" in result.output and "has none" in result.output


def test_conflicting_labels_are_refused(tmp_path, tables):
    handcrafted, _ = tables
    other = write_musicnn_table(tmp_path / "musicnn.csv", handcrafted)
    frame = pd.read_csv(other)
    frame.loc[frame["track"] == frame["track"].iloc[0], "label"] = "metal"
    frame.to_csv(other, index=False)
    result = invoke("benchmark", handcrafted, other, "--models", "logreg,musicnn-logreg", "--folds", "3",
                    "--jobs", "1", "-o", tmp_path / "o")  # fmt: skip
    assert result.exit_code == 2 and "different labels" in result.output, result.output


def test_benchmark_straight_from_audio(tmp_path):
    """An audio folder: handcrafted features are extracted into REPORT/features, then reused."""
    from test_cnn import TINY, write_clips

    from genre.benchmark import benchmark

    write_clips(tmp_path / "audio", per_class=3)
    out = tmp_path / "report"
    # TINY's patch is 1 s: 1 s segments, or the CNN would see a third of every default 3 s one.
    results, files = benchmark(
        tmp_path / "audio", output_dir=out, models=["logreg", "cnn"], folds=3, jobs=1,
        model_params={"cnn": TINY}, segment_seconds=1.0,
    )  # fmt: skip
    assert (out / "features" / "features.csv").is_file() and not (out / "features" / "musicnn.csv").exists()
    assert files.json.is_file()
    inputs = {m.name: m.input for m in results.models}
    assert inputs["cnn"].startswith("features.csv (audio")
    assert results.dataset["n_tracks"] == 6


def test_a_cnn_patch_shorter_than_the_default_segments_is_refused_before_extracting(tmp_path):
    from test_cnn import TINY, write_clips

    from genre.benchmark import benchmark
    from genre.errors import ParameterError

    write_clips(tmp_path / "audio", per_class=3)
    out = tmp_path / "report"
    with pytest.raises(ParameterError, match=r"^--segment-seconds 3 \(the default\): cnn reads one 1 s log-mel patch"):
        benchmark(tmp_path / "audio", output_dir=out, models=["cnn"], folds=3, jobs=1, model_params={"cnn": TINY})
    assert not (out / "features").exists()  # nothing extracted


def test_an_audio_model_names_how_many_listed_files_can_be_read(tmp_path):
    from conftest import LOW_HIGH_PITCHES, tone_feature_table

    from genre.errors import DataError
    from genre.features.table import audio_segment_ids, load_feature_table

    table_path = tone_feature_table(tmp_path, LOW_HIGH_PITCHES, seconds=2.5)
    (tmp_path / "audio" / "low" / "low.00000.wav").unlink()
    with pytest.raises(DataError, match=r"only 5 of the 6 audio files listed in .* can be read \(1 cannot, e\.g\."):
        audio_segment_ids(load_feature_table(table_path), model="cnn")

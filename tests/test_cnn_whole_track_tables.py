"""The CNN models on feature tables whose rows are longer than the 3 s patch they read.

The CNN reads one log-mel patch at each row's ``start``. A table written by ``genre extract
--segment-seconds 0`` (one row per track) or with longer segments used to train it, without a
word, on each track's (or segment's) first 3 s. ``genre train`` and ``genre benchmark`` of such
a table, and the Python functions behind them, now refuse it from its sidecar, before any audio
is read; shorter segments (overlapping patches: every second is still seen) are kept.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from genre.cli import app
from genre.errors import DataError, ParameterError
from tests.conftest import write_tone_folder

runner = CliRunner()

#: Two classes of three tones: enough for 2 folds; no CNN is fitted here.
PITCHES = {"low": (220.0, 247.0, 262.0), "high": (880.0, 988.0, 1046.0)}


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> dict[float, object]:
    """The same 6 s tones extracted with whole-track rows (0), 5 s and 1 s segments."""
    from genre.features.config import FeatureConfig
    from genre.features.extract import extract_to_csv

    root = tmp_path_factory.mktemp("whole-track")
    audio = write_tone_folder(root / "audio", PITCHES, seconds=6.0)
    out = {}
    for seconds in (0.0, 5.0, 1.0):
        path = root / f"features-{seconds:g}s.csv"
        extract_to_csv(audio, path, config=FeatureConfig(segment_seconds=seconds), jobs=1, progress=False)
        out[seconds] = path
    return out


@pytest.fixture
def no_audio_read(monkeypatch):
    """Fail if any log-mel spectrogram is computed or read: the refusal must come first."""
    import genre.features.melpatches as melpatches

    def refuse(*args, **kwargs):
        raise AssertionError("audio was read before the table was refused")

    monkeypatch.setattr(melpatches, "clip_log_mel", refuse)


def test_train_refuses_a_whole_track_table_from_the_cli(tables, tmp_path, no_audio_read):
    whole = tables[0.0]
    model = tmp_path / "cnn.genre"
    result = runner.invoke(app, ["train", str(whole), "--model", "cnn", "-o", str(model)])
    assert result.exit_code == 2, result.output
    text = flat(result.output)
    assert str(whole) in text and "Traceback" not in result.output
    assert "cnn reads one 3 s log-mel patch at each row's start" in text
    assert "one row per track (extracted with --segment-seconds 0)" in text
    assert "would see only each track's first 3 s" in text
    assert "extract the audio again with 3 s segments, the default" in text
    assert not model.exists()


def test_benchmark_refuses_a_whole_track_table_from_the_cli(tables, tmp_path, no_audio_read):
    whole = tables[0.0]
    out = tmp_path / "report"
    result = runner.invoke(
        app, ["benchmark", str(whole), "--models", "lda,cnn,cnn-svm", "--folds", "2", "-j", "1", "-o", str(out)]
    )
    assert result.exit_code == 2, result.output
    text = flat(result.output)
    assert str(whole) in text and "Traceback" not in result.output
    # Both audio models in one line; lda, which reads the features, is not blamed.
    assert "cnn, cnn-svm read one 3 s log-mel patch at each row's start" in text
    assert not (out / "results.json").exists() and not (out / "report.html").exists()


def test_the_python_functions_refuse_it_too(tables, tmp_path, no_audio_read):
    from genre.benchmark import benchmark
    from genre.classifiers.training import train_model
    from genre.evaluation.cv import cross_validate_models
    from genre.features.table import load_feature_table

    whole = tables[0.0]
    with pytest.raises(DataError, match="one row per track"):
        train_model(whole, model="cnn-svm", output=tmp_path / "m.genre")
    with pytest.raises(DataError, match="one row per track"):
        cross_validate_models(load_feature_table(whole), models=["cnn"], folds=2, jobs=1)
    with pytest.raises(DataError, match="one row per track"):
        benchmark(whole, output_dir=tmp_path / "report", models=["cnn-xgboost"], folds=2, jobs=1)
    # Feature models read the same table as before.
    assert train_model(whole, model="lda", output=tmp_path / "lda.genre").n_rows == 6


def test_segments_longer_than_the_patch_are_refused(tables, tmp_path, no_audio_read):
    from genre.classifiers.training import train_model

    with pytest.raises(DataError) as caught:
        train_model(tables[5.0], model="cnn", output=tmp_path / "m.genre")
    message = flat(str(caught.value))
    assert "this table has 5 s segments (extracted with --segment-seconds 5)" in message
    assert "only the first 3 s of every 5 s segment" in message


def test_shorter_segments_and_a_matching_patch_are_kept(tables):
    # Patches overlapping 1 s segments still see every second; a patch made as long as the
    # segments (a --param) fits them. Only the check is run here: nothing is trained.
    from genre.classifiers.cnn import check_table_patches, patch_seconds
    from genre.classifiers.registry import make_model
    from genre.features.table import load_feature_table

    one_second = load_feature_table(tables[1.0])
    check_table_patches(one_second, estimators={"cnn": make_model("cnn"), "cnn-svm": make_model("cnn-svm")})
    assert patch_seconds(make_model("cnn-svm")) == pytest.approx(130 * 512 / 22050)
    assert patch_seconds(make_model("svm")) is None
    five = load_feature_table(tables[5.0])
    check_table_patches(five, estimators={"cnn": make_model("cnn", patch_frames=216)})  # 5.01 s
    check_table_patches(five, estimators={"lda": make_model("lda")})  # no patch: not concerned


def test_a_short_patch_asks_for_segments_no_longer_than_itself(tables):
    from genre.classifiers.cnn import check_table_patches
    from genre.classifiers.registry import make_model
    from genre.features.table import load_feature_table

    five = load_feature_table(tables[5.0])
    with pytest.raises(DataError) as caught:
        check_table_patches(five, estimators={"cnn": make_model("cnn", patch_frames=43)})  # 1 s
    message = flat(str(caught.value))
    assert "cnn reads one 1 s log-mel patch" in message
    assert "segments of 1 s or less ('genre extract AUDIO -o features.csv --segment-seconds 1')" in message


def test_the_benchmark_option_gets_the_same_rule_as_a_parameter_error():
    # genre benchmark AUDIO --segment-seconds words it for the option it was given.
    from genre.classifiers.cnn import check_patch_segments
    from genre.classifiers.registry import make_model

    with pytest.raises(ParameterError) as caught:
        check_patch_segments(0, estimators={"cnn": make_model("cnn"), "lda": make_model("lda")})
    message = flat(str(caught.value))
    assert message.startswith("--segment-seconds 0: cnn reads one 3 s log-mel patch at each row's start")
    assert message.endswith("benchmark it without --segment-seconds (3 s segments)")
    check_patch_segments(3, estimators={"cnn": make_model("cnn")})
    check_patch_segments(1, estimators={"cnn": make_model("cnn")})


def test_a_table_without_a_sidecar_is_let_through(tables, tmp_path):
    # Its segment length is unknown: nothing to judge it by (its audio checks still apply).
    import shutil

    from genre.classifiers.cnn import check_table_patches, table_segment_seconds
    from genre.classifiers.registry import make_model
    from genre.features.table import load_feature_table

    bare = tmp_path / "bare.csv"
    shutil.copy(tables[0.0], bare)
    table = load_feature_table(bare)
    assert table_segment_seconds(table) is None and table_segment_seconds(load_feature_table(tables[0.0])) == 0.0
    check_table_patches(table, estimators={"cnn": make_model("cnn")})


def test_plan_inputs_judges_each_model_with_its_own_parameters(tables, no_audio_read):
    # cross_validate_models hands its model parameters on: a patch made 5 s long fits 5 s rows.
    from genre.classifiers.registry import get_spec
    from genre.evaluation.inputs import plan_inputs
    from genre.features.table import load_feature_table

    five = load_feature_table(tables[5.0])
    specs = {"cnn": get_spec("cnn"), "lda": get_spec("lda")}
    with pytest.raises(DataError, match="cnn reads one 3 s log-mel patch"):
        plan_inputs([five], specs)
    plan = plan_inputs([five], specs, params={"cnn": {"patch_frames": 216}})
    assert plan.inputs["cnn"].kind == "audio" and len(plan.inputs["cnn"].X) == five.n_rows


def test_predict_refuses_a_whole_track_table_for_a_cnn_model(tables, tmp_path, monkeypatch):
    """A CNN trained on 1 s rows, asked to label a whole-track table: refused as train and benchmark do."""
    from genre.classifiers.training import train_model

    tiny = dict(filters=(4, 8), dense_units=8, n_mels=32, patch_frames=43, max_epochs=1, patience=1, batch_size=8)
    model = tmp_path / "cnn.genre"
    train_model(tables[1.0], model="cnn", output=model, params=tiny)
    import genre.features.melpatches as melpatches

    monkeypatch.setattr(melpatches, "clip_log_mel", lambda *a, **k: pytest.fail("audio read before the refusal"))
    result = runner.invoke(app, ["predict", str(model), str(tables[0.0])])
    assert result.exit_code == 2, result.output
    text = flat(result.output)
    assert str(tables[0.0]) in text and "Traceback" not in result.output
    assert "one row per track (extracted with --segment-seconds 0)" in text

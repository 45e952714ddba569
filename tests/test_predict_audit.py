"""`genre predict` as a careful user checks it: the same answers from audio and from the
training table, from one file or a batch, from one process or two, from the CLI or the library,
whatever the file's rate, channels or format; and every unusable input reported once, in order."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from genre.cli import app

runner = CliRunner()

#: Four tones a class, so that the SVM's inner 3-fold search has a track of each class per fold.
PITCHES = {"low": (150.0, 180.0, 210.0, 240.0), "high": (2000.0, 2300.0, 2600.0, 2900.0)}


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def probabilities(frame: pd.DataFrame) -> np.ndarray:
    return frame.filter(like="prob_").to_numpy(dtype=float)


@pytest.fixture(scope="module")
def svm_on_tones(tmp_path_factory):
    """Tones, their 1 s-segment table and an SVM on it: the SVM's rank transform is what
    notices a feature that differs from the table's in its last digits."""
    from genre.classifiers.training import train_model
    from tests.conftest import tone_feature_table

    root = tmp_path_factory.mktemp("predict-audit")
    features = tone_feature_table(root, PITCHES, seconds=3.0)
    model = root / "svm.genre"
    train_model(features, model="svm", output=model)
    return root, features, model


def test_audio_predictions_equal_those_of_the_training_table_rows(svm_on_tones):
    from genre.classifiers.prediction import predict_files, predict_table

    root, features, model = svm_on_tones
    files = sorted(str(p) for p in (root / "audio").rglob("*.wav"))
    from_audio = predict_files(model, files)
    from_table = predict_table(model, features).set_index("path")
    # Exactly, not nearly: the tones share one tempo, a tie the SVM's rank transform jumps at,
    # so the unrounded 8th digit alone moved these probabilities before.
    # Rows join on the audio path, as the table gives it.
    np.testing.assert_array_equal(probabilities(from_audio), probabilities(from_table.loc[files]))
    assert from_audio["genre"].tolist() == [p.split("/")[-2] for p in files]


def test_features_are_rounded_and_parsed_as_the_table_reader_does(svm_on_tones):
    from threadpoolctl import threadpool_limits

    from genre.classifiers.prediction import as_written
    from genre.features.config import FeatureConfig
    from genre.features.extract import extract_clip
    from genre.features.table import load_feature_table

    root, features, _ = svm_on_tones
    table = load_feature_table(features)
    clip = root / "audio" / "low" / "low.00001.wav"
    config = FeatureConfig(segment_seconds=1.0)
    # One BLAS thread, as the engine (and predict_files) extract: extract_clip alone would sum
    # in another order and differ from the table in the last bits.
    with threadpool_limits(limits=1):
        rows = extract_clip(clip, config=config)
    columns = config.feature_columns()
    written = as_written(rows, columns)
    expected = table.X[columns].to_numpy()[np.asarray(table.tracks) == "low/low.00001"]
    np.testing.assert_array_equal(written[columns].to_numpy(), expected)
    assert not np.array_equal(rows[columns].to_numpy(), expected)  # the rounding is what differs
    assert written["path"].tolist() == rows["path"].tolist()  # id columns untouched


def test_predictions_do_not_depend_on_the_batch_or_the_process_count(svm_on_tones, write_wav, tmp_path):
    from genre.classifiers.prediction import predict_files

    _, _, model = svm_on_tones
    clips = [write_wav(tmp_path / f"c{i}.wav", 3.0, freq=freq, seed=i) for i, freq in enumerate((170.0, 2500.0, 400.0))]
    batch = predict_files(model, clips, jobs=1)
    two = predict_files(model, clips, jobs=2)
    assert batch["path"].tolist() == two["path"].tolist() == [str(c) for c in clips]
    np.testing.assert_array_equal(probabilities(batch), probabilities(two))
    for i, clip in enumerate(clips):
        np.testing.assert_array_equal(probabilities(predict_files(model, [clip])), probabilities(batch)[[i]])


def test_rate_channels_and_format_do_not_change_the_answer(svm_on_tones, tmp_path):
    import soundfile as sf
    import soxr

    from genre.classifiers.prediction import predict_files
    from tests.conftest import tone

    _, _, model = svm_on_tones
    # 16-bit samples, so that WAV and FLAC hold the same ones (libsndfile rounds floats to
    # 16 bits differently for the two).
    pcm = np.round(tone(4.0, freq=2200.0, seed=5) * 32767).astype(np.int16)
    y = pcm / 32768.0
    clips = {"original": tmp_path / "tone.wav", "flac": tmp_path / "tone.flac", "ogg": tmp_path / "tone.ogg"}
    for path in clips.values():
        sf.write(path, pcm, 22050)
    for rate in (44100, 48000):
        clips[f"stereo {rate}"] = tmp_path / f"tone-{rate}.wav"
        resampled = soxr.resample(y, 22050, rate, quality="HQ")
        sf.write(clips[f"stereo {rate}"], np.stack([resampled, resampled], axis=1), rate, subtype="FLOAT")
    predictions = predict_files(model, list(clips.values())).set_index("path")
    assert predictions["genre"].eq("high").all()
    proba = {name: probabilities(predictions.loc[[str(path)]])[0] for name, path in clips.items()}
    np.testing.assert_array_equal(proba["flac"], proba["original"])  # lossless, same samples
    # Resampled twice (there and back) the samples differ slightly; Vorbis is lossy and a model
    # of eight tones is fragile, so for it the genre alone is compared (above).
    for name in ("stereo 44100", "stereo 48000"):
        np.testing.assert_allclose(proba[name], proba["original"], atol=0.05, err_msg=name)


def test_each_unusable_input_is_reported_once_in_input_order(low_high_model, write_wav, tmp_path):
    import soundfile as sf

    from genre.classifiers.prediction import predict_files

    folder = tmp_path / "in"
    good = write_wav(folder / "a.wav", 2.0, freq=2400.0)
    hidden = write_wav(folder / ".hidden.wav", 2.0, freq=200.0)
    notes = folder / "notes"
    notes.write_text("not audio")
    silent = tmp_path / "silent.wav"  # decodes, but holds nothing to classify
    sf.write(silent, np.zeros(44100, dtype=np.float32), 22050)
    missing = tmp_path / "missing.wav"

    predictions = predict_files(low_high_model, [silent, folder, notes, hidden, missing, good])
    # Given by name, a hidden file is analysed, not also reported as left out by its folder.
    assert predictions["path"].tolist() == [str(good), str(hidden)]
    skipped = predictions.attrs["skipped"]
    assert [path for path, _ in skipped] == [str(silent), str(notes), str(missing)]
    assert "silent" in skipped[0][1] and "unsupported format" in skipped[1][1]


def test_cli_writes_what_the_library_returns(svm_on_tones, write_wav, tmp_path):
    from genre.classifiers.prediction import predict_files

    _, _, model = svm_on_tones
    folder = tmp_path / "mixed ünïcode"
    clips = [write_wav(folder / "b song.wav", 3.0, freq=2600.0), write_wav(folder / "a song.flac", 3.0, freq=190.0)]
    short = write_wav(folder / "short.wav", 0.5)
    (folder / "readme.txt").write_text("x")  # not audio: ignored, not skipped
    (folder / "tune.wma").write_text("x")  # perhaps audio, not a format genre reads: skipped
    output = tmp_path / "out" / "predictions.csv"

    result = invoke("predict", model, clips[0], folder, clips[0], "-o", output)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    written = pd.read_csv(output)
    library = predict_files(model, [clips[0], folder, clips[0]])
    assert written.columns.tolist() == ["path", "genre", "probability", "prob_high", "prob_low"]
    # The file given first keeps its place; given again, and inside the folder, it counts once.
    assert written["path"].tolist() == library["path"].tolist() == [str(clips[0]), str(clips[1])]
    assert written["genre"].tolist() == ["high", "low"]
    np.testing.assert_allclose(probabilities(written), probabilities(library), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(probabilities(written).sum(axis=1), 1.0, atol=1e-5)
    listed = pd.read_csv(output.with_name("predictions.skipped.csv"), keep_default_na=False)
    assert listed.columns.tolist() == ["path", "reason"]
    assert list(listed.itertuples(index=False, name=None)) == library.attrs["skipped"]
    assert set(listed["path"]) == {str(folder / "tune.wma"), str(short)}
    assert "2 predicted, 2 skipped" in result.output


def test_nothing_usable_exits_1_with_one_line_per_file(low_high_model, tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00")
    output = tmp_path / "p.csv"
    result = invoke("predict", low_high_model, bad, tmp_path / "nope.flac", "-o", output)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "no file could be predicted; 2 skipped" in result.output
    assert "runner-up" not in result.output
    assert pd.read_csv(output).empty
    assert len(pd.read_csv(output.with_name("p.skipped.csv"))) == 2


def test_gtzan_clips_predict_as_their_table_rows(gtzan_mini, tmp_path):
    """Real music: an SVM on two clips a genre gives each clip, from its audio, the
    probabilities its rows in the training table give."""
    from genre.classifiers.prediction import predict_files, predict_table
    from genre.classifiers.training import train_model
    from genre.features.config import FeatureConfig
    from genre.features.extract import extract_to_csv

    audio = tmp_path / "audio"
    for genre in sorted(p.name for p in gtzan_mini.iterdir() if p.is_dir())[:4]:
        for clip in sorted((gtzan_mini / genre).glob("*.wav"))[:3]:
            (audio / genre).mkdir(parents=True, exist_ok=True)
            (audio / genre / clip.name).symlink_to(clip)  # a link: the shared data is not copied
    features = tmp_path / "features.csv"
    extract_to_csv(audio, features, config=FeatureConfig(), jobs=2, progress=False)
    model = tmp_path / "svm.genre"
    train_model(features, model="svm", output=model)
    files = sorted(str(p) for p in audio.rglob("*.wav"))
    from_audio = predict_files(model, files, jobs=2)
    from_table = predict_table(model, features).set_index("path")
    np.testing.assert_array_equal(probabilities(from_audio), probabilities(from_table.loc[files]))
    shutil.rmtree(audio)


def test_one_file_named_relatively_and_absolutely_is_predicted_once(svm_on_tones, monkeypatch):
    from genre.classifiers.prediction import predict_files

    root, _, model = svm_on_tones
    monkeypatch.chdir(root / "audio")
    absolute = root / "audio" / "low" / "low.00001.wav"
    predictions = predict_files(model, ["low/low.00001.wav", "./low/low.00001.wav", absolute, "low"])
    assert predictions["path"].tolist()[0] == "low/low.00001.wav"  # as first named
    assert len(predictions) == len(PITCHES["low"])  # the folder adds only the other three
    assert predictions.attrs["skipped"] == []


def test_library_predict_does_what_the_cli_does(svm_on_tones, tmp_path):
    from genre.classifiers.prediction import check_predictions_output, predict, predict_table
    from genre.errors import OutputError, ParameterError

    root, features, model = svm_on_tones
    clip = root / "audio" / "low" / "low.00001.wav"
    pd.testing.assert_frame_equal(predict(model, [features]), predict_table(model, features))
    assert predict(model, [clip])["genre"].tolist() == ["low"]
    with pytest.raises(ParameterError, match="one feature CSV on its own"):
        predict(model, [features, clip])
    with pytest.raises(ParameterError, match="give a .csv file name"):
        check_predictions_output(tmp_path / "p.wav", inputs=[model])
    with pytest.raises(OutputError, match="also an input"):
        check_predictions_output(features, inputs=[model, features])
    assert check_predictions_output(tmp_path / "p.csv", inputs=[model, clip]) == tmp_path / "p.csv"


def test_an_interrupted_run_keeps_the_finished_predictions(low_high_model, write_wav, tmp_path, monkeypatch):
    """Ctrl-C after two of four files: both predicted and written, the other two listed as not analysed."""
    import genre.classifiers.prediction as prediction

    files = [write_wav(tmp_path / f"t{i}.wav", 3.0, freq=200.0 + 2000.0 * (i % 2), seed=i) for i in range(4)]
    real, done = prediction._extract_one, []

    def interrupted(item):
        if len(done) == 2:
            raise KeyboardInterrupt
        done.append(item)
        return real(item)

    monkeypatch.setattr(prediction, "_extract_one", interrupted)
    with pytest.raises(prediction.PredictionInterrupted) as stop:
        prediction.predict_files(low_high_model, files)
    assert list(stop.value.partial["path"]) == [str(f) for f in files[:2]]
    assert stop.value.partial.attrs["skipped"] == [(str(f), prediction.NOT_ANALYSED) for f in files[2:]]
    output = tmp_path / "p.csv"
    done.clear()
    result = invoke("predict", low_high_model, *files, "-o", output)
    assert result.exit_code == 130, result.output
    said = " ".join(result.output.split())
    assert f"interrupted: the predictions of the 2 files finished are above and in {output}; the 2 not reached" in said
    assert "Traceback" not in result.output
    assert len(pd.read_csv(output)) == 2 and len(pd.read_csv(output.with_name("p.skipped.csv"))) == 2

"""Input hygiene: one rule for gaps in group columns, label spellings, report folders kept out
of the audio they benchmark, sidecar files beside the audio, test lists without training lists,
and hints that name a command.

Each section pins one fix; every test here failed before it.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from feature_tables import write_gtzan_table, write_list, write_own_table
from typer.testing import CliRunner

from genre.cli import app
from genre.errors import DataError, OutputError

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def flat(text: str) -> str:
    """Terminal output on one line (rich wraps long lines)."""
    return " ".join(text.split())


def touch(path: Path, data: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# -- 1. a group column with gaps: one rule, named or found, and said in the results ---------------
def table_with_gaps(path: Path, *, ungrouped: int = 3) -> Path:
    """Our own layout, 4 classes x 4 tracks x 2 segments, 2 artists per class; ``ungrouped`` tracks lack one.

    The first track of each class loses its group first (every artist keeps a track).
    """
    write_own_table(path, tracks_per_class=4, segments=2, groups_per_class=2, n_features=4)
    frame = pd.read_csv(path)
    tracks = sorted(frame["track"].unique(), key=lambda t: (t[-1], t))
    for track in tracks[:ungrouped]:
        frame.loc[frame["track"] == track, "group"] = np.nan
    frame.to_csv(path, index=False)
    return path


def test_named_and_found_group_columns_follow_one_rule(tmp_path):
    from genre.features.table import load_feature_table

    path = table_with_gaps(tmp_path / "t.csv")
    found, named = load_feature_table(path), load_feature_table(path, group_col="group")  # named: was refused
    assert found.groups.tolist() == named.groups.tolist()
    for table in (found, named):
        assert table.n_ungrouped_tracks == 3 and table.n_named_groups == 8
        assert table.group_note().startswith("3 of 16 tracks have no group in column 'group'; each is its own group")


def test_a_track_whose_group_is_filled_in_some_rows_only_is_refused_as_written(tmp_path):
    from genre.features.table import load_feature_table

    path = write_own_table(tmp_path / "t.csv", tracks_per_class=3, segments=2, groups_per_class=2)
    frame = pd.read_csv(path)
    frame.loc[1, "group"] = np.nan  # the second segment of the first track
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"more than one group in column 'group' \(e\.g\. track '[^']+': , blues-artist0\)"):
        load_feature_table(path)


@pytest.mark.parametrize("named", [False, True], ids=["found", "named"])
def test_results_report_and_terminal_say_which_tracks_have_no_group(tmp_path, named):
    path = table_with_gaps(tmp_path / "t.csv")
    out = tmp_path / "report"
    result = invoke("benchmark", path, "-m", "logreg", "-k", "2", "-o", out, *(["--group-col", "group"] if named else []))
    assert result.exit_code == 0, result.output
    note = "3 of 16 tracks have no group in column 'group'; each is its own group"
    assert note in flat(result.output) and "group-aware" in result.output
    assert note in flat((out / "report.md").read_text(encoding="utf-8"))
    assert "8 groups and 3 tracks without one (each its own group)" in flat((out / "report.md").read_text(encoding="utf-8"))

    from genre.reports import load_results

    results = load_results(out / "results.json")
    assert results.protocol["group_aware"] and note in results.protocol["caveat"]
    assert results.dataset["n_groups"] == 8 and results.dataset["n_tracks_without_group"] == 3


def test_no_group_note_when_every_track_has_a_group_or_groups_are_not_used(tmp_path):
    from genre.evaluation import cross_validate_models
    from genre.features.table import load_feature_table

    full = load_feature_table(write_own_table(tmp_path / "full.csv", tracks_per_class=3, groups_per_class=2))
    assert full.group_note() is None
    gaps = load_feature_table(table_with_gaps(tmp_path / "gaps.csv"))
    results = cross_validate_models(gaps, ["logreg"], folds=3, groups=False, progress=False)
    assert "have no group" not in (results.protocol["caveat"] or "")  # --no-groups: not about groups


def test_manifest_with_some_empty_groups_extracts_and_benchmarks_alike_both_ways(tmp_path, write_wav):
    """The audit's reproduction: a manifest where 3 of 12 rows have no group."""
    rows = ["path,label,group"]
    for i in range(12):
        label = ("low", "high")[i % 2]
        write_wav(tmp_path / "audio" / f"{label}{i:02d}.wav", 2.0, freq=(180.0, 2200.0)[i % 2] + 13 * i, seed=i)
        group = "" if i in (0, 5, 8) else f"artist{i % 4}{label}"
        rows.append(f"audio/{label}{i:02d}.wav,{label},{group}")
    manifest = tmp_path / "man2.csv"
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    table = tmp_path / "features.csv"
    assert invoke("extract", manifest, "-o", table, "-j", "1", "--segment-seconds", "1").exit_code == 0
    outputs = []
    for extra in ([], ["--group-col", "group"]):
        result = invoke("benchmark", table, "-m", "logreg", "-k", "2", "-o", tmp_path / f"r{len(extra)}", *extra)
        assert result.exit_code == 0, result.output
        assert "3 of 12 tracks have no group in column 'group'" in flat(result.output)
        outputs.append((tmp_path / f"r{len(extra)}" / "results.json").read_text(encoding="utf-8"))
    from genre.reports import load_results

    first, second = (load_results(tmp_path / f"r{n}" / "results.json") for n in (0, 2))
    assert [s.test_tracks for s in first.splits] == [s.test_tracks for s in second.splits]  # the same folds


def test_a_named_group_column_empty_in_every_row_is_refused(tmp_path):
    path = table_with_gaps(tmp_path / "t.csv", ungrouped=16)
    result = invoke("benchmark", path, "-m", "logreg", "-k", "3", "--group-col", "group", "-o", tmp_path / "o")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "--group-col 'group' is empty in every row" in flat(result.output)
    # Found, an empty column just means "no groups", as before.
    found = invoke("benchmark", path, "-m", "logreg", "-k", "3", "-o", tmp_path / "o2")
    assert found.exit_code == 0 and "not group-aware" in found.output


# -- 2. labels that differ only in case: refused in tables as in folders and manifests ------------
def relabel(path: Path, mapping: dict[int, str]) -> Path:
    frame = pd.read_csv(path)
    for row, label in mapping.items():
        frame.loc[frame.index % 12 == row, "label"] = label
    frame.to_csv(path, index=False)
    return path


def test_table_labels_differing_only_in_case_are_refused(tmp_path):
    from genre.features.table import load_feature_table

    path = write_gtzan_table(tmp_path / "t.csv", labels=("blues", "jazz", "metal"), tracks_per_class=4)
    frame = pd.read_csv(path)
    frame.loc[[1, 3], "label"] = "BLUES"  # rows 3 and 5 of the file
    frame.to_csv(path, index=False)
    message = r"labels that differ only in letter case or Unicode form would be separate genres: 'BLUES' \(row 3\) and 'blues' \(row 2\)"
    with pytest.raises(DataError, match=message):
        load_feature_table(path)
    for command in (["benchmark", path, "-m", "logreg", "-k", "2", "-o", tmp_path / "o"],
                    ["train", path, "-m", "logreg", "-o", tmp_path / "m.genre"]):  # fmt: skip
        result = invoke(*command)
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output
        assert "differ only in letter case" in flat(result.output) and str(path) in flat(result.output)
    # Prediction reads labels only if there are any: not refused there.
    assert load_feature_table(path, labelled=False).n_rows == 12


def test_table_labels_differing_only_in_unicode_form_are_refused(tmp_path):
    from genre.features.table import load_feature_table

    composed = unicodedata.normalize("NFC", "café")
    path = write_gtzan_table(tmp_path / "t.csv", labels=(composed, "jazz"), tracks_per_class=4)
    frame = pd.read_csv(path)
    frame.loc[0, "label"] = unicodedata.normalize("NFD", composed)
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match="differ only in letter case or Unicode form"):
        load_feature_table(path)


def test_folders_manifests_and_tables_refuse_with_one_function():
    import genre.features.table as table_module
    from genre.data import tracks

    assert table_module.check_label_spellings is tracks.check_label_spellings


# -- 3. a report folder inside the audio it benchmarks -----------------------------------------
@pytest.fixture
def audio_root(tmp_path) -> Path:
    """Two label folders of (unread) WAV files: the checks come before any extraction."""
    root = tmp_path / "audio"
    for label in ("blues", "rock"):
        for i in range(3):
            touch(root / label / f"{label}.{i}.wav")
    return root


@pytest.mark.parametrize("where", [".", "blues", "blues/report", "reports"])
def test_benchmark_refuses_a_report_folder_in_its_audio_folder(audio_root, where):
    output = audio_root / where
    before = sorted(p.relative_to(audio_root) for p in audio_root.rglob("*"))
    result = invoke("benchmark", audio_root, "-m", "logreg", "-o", output)
    assert result.exit_code == 2 and "Traceback" not in result.output
    text = flat(result.output)
    assert f"the audio folder {audio_root} that this command reads" in text and f"write to a folder outside {audio_root}" in text
    assert sorted(p.relative_to(audio_root) for p in audio_root.rglob("*")) == before  # nothing written


def test_a_linked_label_folder_counts_as_part_of_the_audio(audio_root, tmp_path):
    elsewhere = tmp_path / "disk2" / "jazz"
    touch(elsewhere / "jazz.0.wav")
    try:
        (audio_root / "jazz").symlink_to(elsewhere, target_is_directory=True)
    except OSError:
        pytest.skip("symbolic links not available here")
    from genre.benchmark import benchmark

    with pytest.raises(OutputError, match="lies inside the audio folder"):
        benchmark(audio_root, output_dir=elsewhere / "report", models=["logreg"])


def test_report_folders_beside_or_around_the_audio_are_allowed(audio_root, tmp_path):
    from genre.atomic import check_output_outside

    for fine in (tmp_path / "reports", tmp_path, tmp_path / "audio-reports"):
        assert check_output_outside(fine, inputs=[audio_root], what="audio folder") == fine
    with pytest.raises(OutputError, match="is the audio folder"):
        check_output_outside(audio_root / "blues" / "..", inputs=[audio_root], what="audio folder")


def test_extract_may_write_its_table_inside_the_audio_folder(audio_root):
    """A CSV (with its sidecar, skipped list and lock) is not audio: harmless there, and allowed."""
    from genre.data import load_folder

    for name in ("features.csv", "features.json", "features.skipped.csv", "features.csv.lock"):
        touch(audio_root / name)
        touch(audio_root / "blues" / name)
    dataset = load_folder(audio_root)
    assert len(dataset.tracks) == 6 and dataset.rejected == []
    # In the root: not even counted; in a label folder: ignored, counted once.
    assert dataset.notes == ["ignored 4 non-audio files (.csv, .json, .lock)"]


# -- 4. cover art, notes and playlists beside the audio: ignored, not skipped ----------------------
SIDECARS = ("cover.jpg", "info.txt", "Folder.JPG", "album.cue", "album.m3u", "Thumbs.db", "desktop.ini",
            "rip.log", "album.nfo", "album.sfv", "lyrics.lrc", "booklet.pdf", "README.md", "tags.json")  # fmt: skip


def test_well_known_non_audio_files_are_ignored_and_counted(tmp_path):
    from genre.data import load_folder

    for label in ("art", "blues"):
        touch(tmp_path / label / f"{label}.0.wav")
        for name in SIDECARS:
            touch(tmp_path / label / name)
    touch(tmp_path / "art" / "song.wma")  # might be audio: still skipped, so users learn it was not read
    touch(tmp_path / "art" / "song.m4a")
    touch(tmp_path / "art" / "LICENSE")  # no extension: might be anything
    dataset = load_folder(tmp_path)
    assert [Path(p).name for p, _ in dataset.rejected] == ["LICENSE", "song.m4a", "song.wma"]
    assert len(dataset.ignored) == 2 * len(SIDECARS)
    assert dataset.notes == [
        f"ignored {2 * len(SIDECARS)} non-audio files (.jpg, .cue, .db, .ini, .json, .log, .lrc, .m3u, ...)"
    ]


def test_is_known_non_audio_never_claims_an_audio_extension():
    from genre.data.formats import AUDIO_EXTENSIONS, NON_AUDIO_EXTENSIONS, is_known_non_audio

    assert not AUDIO_EXTENSIONS & NON_AUDIO_EXTENSIONS
    assert is_known_non_audio("a/COVER.JPG") and not is_known_non_audio("x.wma") and not is_known_non_audio("README")


def test_strict_extraction_is_not_failed_by_cover_art(tmp_path, write_wav):
    root = tmp_path / "music"
    for label, freq in (("art", 300.0), ("blues", 900.0), ("rock", 2000.0)):
        for i in range(2):
            write_wav(root / label / f"{label}.{i}.wav", 1.5, freq=freq + 40 * i, seed=i)
        touch(root / label / "cover.jpg")
        touch(root / label / "info.txt")
    out = tmp_path / "features.csv"
    result = invoke("extract", root, "-o", out, "-j", "1", "--segment-seconds", "1", "--strict")
    assert result.exit_code == 0, result.output
    assert "6 of 6 files extracted" in flat(result.output) and "skipped " not in result.output
    assert "ignored 6 non-audio files (.jpg, .txt)" in flat(result.output)
    assert pd.read_csv(out.with_name("features.skipped.csv")).empty


def test_predict_ignores_cover_art_in_folders(low_high_model, write_wav, tmp_path):
    from genre.classifiers.prediction import expand_audio_paths

    song = write_wav(tmp_path / "album" / "song.wav", 2.0, freq=2200.0)
    touch(tmp_path / "album" / "cover.jpg")
    touch(tmp_path / "album" / "playlist.m3u8")
    files, unusable = expand_audio_paths([tmp_path / "album"])
    assert files == [song] and unusable == []
    result = invoke("predict", low_high_model, tmp_path / "album", "-j", "1")
    assert result.exit_code == 0 and "1 predicted, 0 skipped" in result.output
    assert "ignored 2 non-audio files" in flat(result.output)


def test_benchmark_of_an_audio_folder_mentions_ignored_files(tmp_path, monkeypatch):
    import genre.features.extract as extract_module
    from genre.benchmark import extract_inputs

    touch(tmp_path / "audio" / "a" / "x.wav")
    touch(tmp_path / "audio" / "b" / "y.wav")
    touch(tmp_path / "audio" / "b" / "cover.png")

    def stop(*args, **kwargs):
        raise KeyboardInterrupt  # the note is said before the extraction: no need to run one

    monkeypatch.setattr(extract_module, "table_is_current", stop)
    lines: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        extract_inputs(tmp_path / "audio", tmp_path / "out", models=["logreg"], echo=lines.append)
    assert lines == ["ignored 1 non-audio file (.png)"]


def test_benchmark_from_audio_says_the_ignored_files_once(tmp_path, write_wav):
    for label, freq in (("low", 300.0), ("high", 2000.0)):
        for i in range(3):
            write_wav(tmp_path / "audio" / label / f"{label}.{i}.wav", 3.5, freq=freq + 40 * i, seed=i)
    touch(tmp_path / "audio" / "low" / "cover.png")
    result = invoke("benchmark", tmp_path / "audio", "-m", "logreg", "-k", "3", "-j", "1", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert flat(result.output).count("ignored 1 non-audio file (.png)") == 1


# -- 5. a test list without training lists --------------------------------------------------------
def test_a_test_list_alone_adds_a_caveat_about_the_training_side(tmp_path):
    from genre.evaluation import cross_validate_models
    from genre.features.table import load_feature_table

    table = load_feature_table(write_gtzan_table(tmp_path / "t.csv", labels=("blues", "jazz"), tracks_per_class=6))
    test = write_list(tmp_path / "test.txt", ["blues/blues.00000.wav", "jazz/jazz.00000.wav", "jazz.00001"])
    train = write_list(tmp_path / "train.txt", [f"{g}.{i:05d}" for g in ("blues", "jazz") for i in range(2, 5)])
    alone = cross_validate_models(table, ["logreg"], test_list=test, progress=False)
    caveat = alone.protocol["caveat"]
    assert "Only a test list was given (test.txt): the training side is every other row of t.csv (9 tracks)" in caveat
    assert "--train-list" in caveat
    paired = cross_validate_models(table, ["logreg"], test_list=test, train_lists=[train], progress=False)
    assert "Only a test list" not in (paired.protocol["caveat"] or "")


def test_a_test_list_alone_counts_tracks_and_rows_of_a_segmented_table(tmp_path):
    from genre.evaluation import cross_validate_models
    from genre.features.table import load_feature_table

    table = load_feature_table(write_own_table(tmp_path / "f.csv", tracks_per_class=3, segments=2))
    test = write_list(tmp_path / "test.txt", [f"{g}.00000" for g in ("blues", "classical", "jazz", "metal")])
    results = cross_validate_models(table, ["logreg"], test_list=test, progress=False)
    assert "every other row of f.csv (8 tracks, 16 rows)" in results.protocol["caveat"]


def test_a_test_list_alone_shows_its_caveat_in_the_terminal_and_report(tmp_path):
    path = write_gtzan_table(tmp_path / "t.csv", labels=("blues", "jazz"), tracks_per_class=6)
    test = write_list(tmp_path / "test.txt", ["blues.00000", "jazz.00000"])
    out = tmp_path / "r"
    result = invoke("benchmark", path, "-m", "logreg", "--test-list", test, "-o", out)
    assert result.exit_code == 0, result.output
    assert "Only a test list was given" in flat(result.output)
    assert "every other row of t.csv (10 tracks)" in flat((out / "report.md").read_text(encoding="utf-8"))


def test_gtzan_filtered_test_list_alone_trains_on_710_tracks(gtzan_features, gtzan_splits):
    from genre.evaluation import cross_validate_models
    from genre.features.table import load_feature_table

    table = load_feature_table(gtzan_features)
    results = cross_validate_models(table, ["lda"], test_list=gtzan_splits / "test_filtered.txt", progress=False)
    assert "every other row of features_30_sec.csv (710 tracks)" in results.protocol["caveat"]


# -- 6. the hint for an embedding model names the command that writes its table -----------------
def test_missing_musicnn_table_hint_names_the_cli_flag(tmp_path):
    from genre.classifiers.registry import get_spec
    from genre.evaluation.inputs import plan_inputs
    from genre.features.table import load_feature_table

    table = load_feature_table(write_gtzan_table(tmp_path / "t.csv", labels=("blues", "jazz"), tracks_per_class=4))
    with pytest.raises(DataError) as caught:
        plan_inputs([table], {"musicnn-svm": get_spec("musicnn-svm")})
    message = str(caught.value)
    assert "genre extract AUDIO -o musicnn.csv --embeddings musicnn" in message
    assert message.index("--embeddings") < message.index("MusicnnExtractor")  # the CLI first
    # The flag the hint names is one `genre extract` has, with that value.
    help_text = flat(invoke("extract", "--help").output)
    assert "--embeddings" in help_text and "musicnn" in help_text
    from genre.features.embeddings import EMBEDDING_MODELS

    assert "musicnn" in EMBEDDING_MODELS


def test_missing_musicnn_table_hint_reaches_the_benchmark_command(tmp_path):
    path = write_gtzan_table(tmp_path / "t.csv", labels=("blues", "jazz"), tracks_per_class=4)
    result = invoke("benchmark", path, "-m", "musicnn-svm", "-k", "2", "-o", tmp_path / "o")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "--embeddings musicnn" in flat(result.output)



def test_macos_clutter_is_ignored_and_opus_and_w64_are_read(tmp_path):
    import soundfile as sf
    from conftest import tone

    from genre.data import load_folder
    from genre.features.audio import load_audio

    touch(tmp_path / "rock" / "Icon\r")  # a custom folder icon
    touch(tmp_path / "__MACOSX" / "rock" / "._a.wav")  # left by macOS's zip
    (tmp_path / "jazz").mkdir()
    sf.write(tmp_path / "rock" / "a.opus", tone(2.0, sr=48000), 48000, format="OGG", subtype="OPUS")
    sf.write(tmp_path / "jazz" / "b.w64", tone(2.0), 22050, format="W64")
    dataset = load_folder(tmp_path)
    assert sorted(Path(t.path).name for t in dataset.tracks) == ["a.opus", "b.w64"]
    assert dataset.rejected == [] and {t.label for t in dataset.tracks} == {"rock", "jazz"}
    assert load_audio(tmp_path / "rock" / "a.opus")[0].size > 22050

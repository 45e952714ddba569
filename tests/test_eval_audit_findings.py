"""Audit findings on evaluation and reports, each pinned by a test.

A. list files must keep one group (artist) on one side, as folds do;
B. a list line whose file name several tracks share, in no folder of theirs, matches none;
C. macro averages leave out classes a test side does not have, and the report says so;
D. the no-groups caveat quotes GTZAN's figures only for GTZAN;
E. --folds / --repeats are refused with a fixed partition instead of ignored;
F. the recorded job count is what ran, not what was asked;
G. warnings of the fits (non-convergence...) go in the report, not on the terminal.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest
from feature_tables import GENRES, write_gtzan_table, write_list, write_own_table
from typer.testing import CliRunner

from genre.benchmark import benchmark
from genre.cli import app
from genre.errors import DataError, ParameterError
from genre.evaluation import cross_validate_models, list_split
from genre.evaluation.checkpoint import CheckpointStore, StoredFit
from genre.features.table import load_feature_table
from genre.reports import load_results, render_report
from genre.reports.content import build_document

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def one_line(text: str) -> str:
    """Output as one line: rich wraps long lines."""
    return " ".join(text.split())


# -- A. groups and list files -------------------------------------------------------------------
@pytest.fixture
def grouped(tmp_path):
    """4 classes x 4 tracks; track t of a class belongs to its artist t % 2."""
    return load_feature_table(write_own_table(tmp_path / "g.csv", tracks_per_class=4, segments=2, groups_per_class=2))


def _tracks(numbers) -> list[str]:
    return [f"{g}/{g}.{t:05d}.wav" for g in GENRES for t in numbers]


def test_lists_that_split_an_artist_are_refused(tmp_path, grouped):
    train = write_list(tmp_path / "train.txt", _tracks([0, 1]))
    test = write_list(tmp_path / "test.txt", _tracks([2, 3]))  # artists 0 and 1 of every class on both sides
    with pytest.raises(DataError) as error:
        list_split(grouped, train_lists=[train], test_list=test)
    message = str(error.value)
    assert message.startswith(f"{test}: 8 groups of column 'group' have tracks on both sides of the partition")
    assert "'blues-artist0' (1 training, 1 test)" in message and "--no-groups" in message
    # A test list alone splits the artists with the tracks left to train on.
    with pytest.raises(DataError, match="in the test list and the tracks not in it"):
        list_split(grouped, test_list=test)
    split, _ = list_split(grouped, train_lists=[train], test_list=test, use_groups=False)  # as they are
    assert len(split.test_tracks) == 8


def test_lists_that_keep_artists_apart_are_used_and_said_to_be_checked(tmp_path, grouped):
    train = write_list(tmp_path / "train.txt", _tracks([0, 2]))
    test = write_list(tmp_path / "test.txt", _tracks([1, 3]))
    results = cross_validate_models(grouped, ["lda"], train_lists=[train], test_list=test, progress=False)
    assert results.protocol["group_aware"]
    assert "No group of column 'group' has tracks on both sides (checked)." in results.protocol["description"]
    ignored = cross_validate_models(
        grouped, ["lda"], train_lists=[train], test_list=test, groups=False, progress=False
    ).protocol
    assert not ignored["group_aware"] and "were ignored (--no-groups)" in ignored["caveat"]


def test_tracks_without_a_group_never_conflict(tmp_path):
    path = write_own_table(tmp_path / "g.csv", tracks_per_class=4, segments=1, groups_per_class=2)
    frame = pd.read_csv(path)
    frame.loc[frame["label"] == "blues", "group"] = ""  # blues tracks: each its own group
    frame.to_csv(path, index=False)
    table = load_feature_table(path)
    train = write_list(tmp_path / "train.txt", [f"{g}/{g}.00000.wav" for g in GENRES] + ["blues/blues.00001.wav"])
    test = write_list(tmp_path / "test.txt", [f"{g}/{g}.00001.wav" for g in GENRES[1:]] + ["blues/blues.00002.wav"])
    split, _ = list_split(table, train_lists=[train], test_list=test)
    assert len(split.test_tracks) == 4


def test_cli_refuses_lists_that_split_an_integer_artist_column(tmp_path):
    path = write_gtzan_table(tmp_path / "groups.csv", tracks_per_class=8)
    frame = pd.read_csv(path)
    frame.insert(1, "artist", np.arange(len(frame)) // 4)  # 4 consecutive tracks per artist
    frame.to_csv(path, index=False)
    names = frame["filename"].tolist()
    train = write_list(tmp_path / "train.txt", names[0::2])
    test = write_list(tmp_path / "test.txt", names[1::2])
    result = invoke("benchmark", path, "--group-col", "artist", "--train-list", train, "--test-list", test,
                    "-m", "lda", "-o", tmp_path / "out")  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "8 groups of column 'artist' have tracks on both sides" in one_line(result.output)
    assert not (tmp_path / "out" / "report.md").exists()


# -- B. ambiguous list lines --------------------------------------------------------------------
@pytest.fixture
def same_stems(tmp_path):
    """Tracks ``<genre>/000.wav`` ... ``<genre>/005.wav``: every file name is in four folders."""
    path = write_gtzan_table(tmp_path / "same.csv", tracks_per_class=6)
    frame = pd.read_csv(path)
    frame["filename"] = [f"{name.split('.')[0]}/{int(name.split('.')[1]):03d}.wav" for name in frame["filename"]]
    frame.to_csv(path, index=False)
    return path


def test_ambiguous_lines_match_no_track_and_are_counted(tmp_path, same_stems):
    table = load_feature_table(same_stems)
    test = write_list(tmp_path / "test.txt", ["other/000.wav", "jazz/001.wav", "002.wav", "nothere/x.wav"])
    split, matches = list_split(table, test_list=test)
    assert list(split.test_tracks) == ["jazz/001"]  # not the 8 tracks named 000 and 002
    match = matches[0]
    assert (match.n_lines, match.n_matched, match.n_unmatched, match.n_ambiguous) == (4, 1, 1, 2)
    assert match.ambiguous == ["other/000.wav", "002.wav"] and match.unmatched == ["nothere/x.wav"]

    only = write_list(tmp_path / "only.txt", [f"other/{i:03d}.wav" for i in range(5)])
    with pytest.raises(DataError, match=r"none of its 5 lines matches one track .* 5 lines name file names that "
                                        r"several tracks share.* 'other/000.wav' could be blues/000"):  # fmt: skip
        list_split(table, test_list=only)


def test_ambiguous_lines_are_reported(tmp_path, same_stems):
    test = write_list(tmp_path / "test.txt", [f"{g}/00{i}.wav" for g in GENRES for i in (0, 1)] + ["x/002.wav"])
    results, files = benchmark(same_stems, models=["lda"], test_list=test, output_dir=tmp_path / "out")
    assert "(8 of 9 lines matched, 1 ambiguous)" in results.protocol["description"]
    assert "1 of 9 lines of test list test.txt (e.g. 'x/002.wav') name a file name that several tracks share" in (
        results.protocol["caveat"]
    )
    report = files.markdown.read_text(encoding="utf-8")
    assert "| ambiguous | ambiguous (first) |" in report and "| 1 | x/002.wav |" in report
    assert load_results(files.json).protocol["lists"][0]["n_ambiguous"] == 1


def test_gtzan_lists_still_match_the_public_table(gtzan_features, gtzan_splits):
    # The lists say blues/blues.00012.wav, the table blues.00012.wav: one track per stem, a match.
    table = load_feature_table(gtzan_features)
    split, matches = list_split(
        table, train_lists=[gtzan_splits / "train_filtered.txt"], test_list=gtzan_splits / "test_filtered.txt"
    )
    assert len(split.test_tracks) == 290 and all(m.n_ambiguous == 0 for m in matches)


# -- C. classes without test tracks ---------------------------------------------------------------
def test_macro_scores_leave_out_classes_without_test_tracks(tmp_path):
    from sklearn.metrics import f1_score

    path = write_gtzan_table(tmp_path / "features_30_sec.csv", tracks_per_class=6, separation=1.0)
    train = write_list(tmp_path / "train.txt", [f"{g}/{g}.{t:05d}.wav" for g in GENRES for t in range(4)])
    test = write_list(tmp_path / "test.txt", [f"{g}/{g}.{t:05d}.wav" for g in GENRES[1:] for t in (4, 5)])
    results, files = benchmark(path, models=["lda"], train_lists=[train], test_list=test, output_dir=tmp_path / "out")
    model = results.models[0]
    truth = [name.split(".")[0] for name in results.splits[0].test_tracks]
    predicted = model.folds[0].predictions
    assert model.macro_f1 == pytest.approx(f1_score(truth, predicted, labels=list(GENRES[1:]), average="macro"))
    tested = [model.per_class[g]["f1"] for g in GENRES[1:]]
    assert model.macro_f1 == pytest.approx(np.mean(tested))  # the mean of the table's column, as it says
    blues = model.per_class["blues"]
    assert blues["support"] == 0 and blues["recall"] is None and blues["f1"] is None
    assert "the test side has no tracks of class 'blues'" in results.protocol["caveat"].lower()
    report = files.markdown.read_text(encoding="utf-8")
    assert "| blues | n/a |" in report and "blues has no test tracks, so no F1 (n/a)" in report
    assert "over the classes with test tracks is the headline macro-F1" in report
    again = render_report(load_results(files.json), tmp_path / "again")  # null F1 reads back and plots
    assert again.markdown.read_text(encoding="utf-8") == report


def test_stratified_folds_keep_the_macro_f1_over_all_classes(tmp_path):
    from sklearn.metrics import f1_score

    table = load_feature_table(write_gtzan_table(tmp_path / "t.csv", tracks_per_class=6, separation=0.5))
    results = cross_validate_models(table, ["lda"], folds=3, progress=False)
    for fold, split in zip(results.models[0].folds, results.splits):
        truth = [name.split(".")[0] for name in split.test_tracks]
        expected = f1_score(truth, fold.predictions, labels=table.labels, average="macro", zero_division=0)
        assert fold.macro_f1 == pytest.approx(expected)
    assert "test side has no tracks" not in (results.protocol["caveat"] or "")


# -- D. the no-groups caveat ----------------------------------------------------------------------
def test_no_groups_caveat_quotes_gtzan_only_for_gtzan(tmp_path):
    made_up = tmp_path / "songs.csv"
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(24, 3)), columns=["a", "b", "c"])
    frame.insert(0, "song_id", [f"s{i:03d}" for i in range(24)])
    frame["label"] = np.repeat(["alpha", "beta", "gamma"], 8)
    frame.to_csv(made_up, index=False)
    caveat = cross_validate_models(load_feature_table(made_up), ["lda"], folds=2, progress=False).protocol["caveat"]
    assert "may fall on both sides of the splits; where tracks share artists, accuracy is inflated" in caveat
    assert "GTZAN" not in caveat and "74-78 %" not in caveat
    gtzan_like = load_feature_table(write_gtzan_table(tmp_path / "features_30_sec.csv", tracks_per_class=4))
    caveat = cross_validate_models(gtzan_like, ["lda"], folds=2, progress=False).protocol["caveat"]
    assert "This table looks like GTZAN" in caveat and "74-78 %" in caveat and "49-58 %" in caveat


# -- E. folds and repeats with a fixed partition ----------------------------------------------------
def test_folds_and_repeats_with_a_fixed_partition_are_refused(tmp_path):
    path = write_gtzan_table(tmp_path / "features_30_sec.csv", tracks_per_class=5)
    test = write_list(tmp_path / "test.txt", [f"{g}/{g}.00000.wav" for g in GENRES])
    table = load_feature_table(path)
    with pytest.raises(ParameterError, match=r"^--folds 7 and --repeats 3: a fixed partition \(--test-list\)"):
        cross_validate_models(table, ["lda"], test_list=test, folds=7, repeats=3, progress=False)
    with pytest.raises(ParameterError, match=r"^--repeats 2: "):
        benchmark(path, models=["lda"], test_list=test, repeats=2)
    result = invoke("benchmark", path, "--test-list", test, "--folds", 7, "-m", "lda", "-o", tmp_path / "out")
    assert result.exit_code == 2 and "--folds 7: a fixed partition" in one_line(result.output)
    # Also at the default value: given, it would be ignored all the same.
    result = invoke("benchmark", path, "--test-list", test, "--folds", 5, "-m", "lda", "-o", tmp_path / "out")
    assert result.exit_code == 2 and "--folds 5: a fixed partition" in one_line(result.output)
    result = invoke("benchmark", path, "-m", "lda", "-o", tmp_path / "cv")
    assert result.exit_code == 0 and "--folds 5 --repeats 1" in load_results(tmp_path / "cv").command
    # Left out, they do not appear in the call the results record.
    results, _ = benchmark(path, models=["lda"], test_list=test)
    assert results.command == (
        f"genre.benchmark.benchmark({str(path)!r}, models=['lda'], test_list={str(test)!r}, seed=0)"
    )
    assert f"({str(path)!r}, models=['lda'], folds=5, repeats=1, seed=0)" in benchmark(path, models=["lda"])[0].command


# -- F. the job count ------------------------------------------------------------------------------
def test_recorded_jobs_are_the_fits_that_ran_at_once(tmp_path):
    def text(results) -> str:
        return " ".join(block.text for block in build_document(results))

    path = write_gtzan_table(tmp_path / "features_30_sec.csv", tracks_per_class=4)
    results, _ = benchmark(path, models=["lda"], folds=2, jobs=64)
    assert results.protocol["jobs"] == min(64, os.cpu_count() or 1, 2)  # cores, and 2 fits
    assert "64 parallel jobs" not in text(results)
    test = write_list(tmp_path / "test.txt", [f"{g}/{g}.00000.wav" for g in GENRES])
    results, _ = benchmark(path, models=["lda"], test_list=test, jobs=64)
    assert results.protocol["jobs"] == 1  # a single fit per model
    assert "(one fit at a time)" in text(results)


# -- G. warnings of the fits ----------------------------------------------------------------------
@pytest.fixture
def small_table(tmp_path):
    return load_feature_table(write_gtzan_table(tmp_path / "features_30_sec.csv", tracks_per_class=4))


@pytest.mark.parametrize("jobs", [1, 2])
def test_non_convergence_is_a_caveat_not_terminal_noise(small_table, capfd, jobs):
    with warnings.catch_warnings(record=True) as leaked:
        warnings.simplefilter("always")
        results = cross_validate_models(
            small_table, ["logreg"], folds=2, jobs=jobs, progress=False, model_params={"logreg": {"max_iter": 0}}
        )
    assert not [w for w in leaked if "converge" in str(w.message)]
    assert "ConvergenceWarning" not in capfd.readouterr().err
    assert "Model logreg did not converge in 2 of 2 fits (lbfgs, max_iter=0), so its scores may understate it; " \
           "raise max_iter." in results.protocol["caveat"]  # fmt: skip
    assert "did not converge" in results.to_json()


def test_a_library_warning_before_a_refusal_does_not_leak(small_table):
    with warnings.catch_warnings(record=True) as leaked, pytest.raises(DataError, match="^model logreg failed"):
        warnings.simplefilter("always")
        cross_validate_models(small_table, ["logreg"], folds=2, progress=False, model_params={"logreg": {"penalty": "l1"}})
    assert not [w for w in leaked if issubclass(w.category, FutureWarning)]


def test_warnings_are_kept_with_a_checkpoint_and_resumed(small_table, tmp_path):
    call = dict(folds=2, progress=False, model_params={"logreg": {"max_iter": 0}}, checkpoint_dir=tmp_path / "ckpt")
    first = cross_validate_models(small_table, ["logreg"], **call)
    again = cross_validate_models(small_table, ["logreg"], **call)  # every fit read back
    assert again.protocol["resumed_fits"] == 2
    assert "did not converge in 2 of 2 fits" in again.protocol["caveat"]
    assert again.protocol["caveat"] == first.protocol["caveat"]


def test_checkpoints_of_earlier_versions_read_without_warnings(tmp_path):
    store = CheckpointStore(tmp_path)
    fit = StoredFit(np.full((2, 2), 0.5), 0.1, 0.01, (("ConvergenceWarning", "lbfgs failed to converge"),))
    store.save("a" * 64, fit)
    assert store.load("a" * 64, n_rows=2, n_labels=2).warnings == fit.warnings
    with open(store.path("b" * 64), "wb") as handle:  # written before warnings were kept
        np.savez(handle, key=np.array("b" * 64), proba=np.full((2, 2), 0.5), seconds=np.array([0.1, 0.01]))
    assert store.load("b" * 64, n_rows=2, n_labels=2).warnings == ()


def test_a_resumed_run_records_how_its_kept_times_were_measured(small_table, tmp_path):
    """Fits measured two at a time and read back: the report must not say they ran alone."""
    store = CheckpointStore(tmp_path / "ckpt")
    call = dict(folds=2, progress=False, checkpoint_dir=tmp_path / "ckpt")
    first = cross_validate_models(small_table, ["lda"], jobs=2, **call)
    measured_with = first.protocol["jobs"]
    assert measured_with == min(2, os.cpu_count() or 1)
    again = cross_validate_models(small_table, ["lda"], jobs=1, **call)  # every fit read back
    assert again.protocol["resumed_fits"] == 2 and again.protocol["jobs"] == measured_with
    fit = StoredFit(np.full((2, 2), 0.5), 0.1, 0.01, (), concurrent=2)
    store.save("c" * 64, fit)
    assert store.load("c" * 64, n_rows=2, n_labels=2).concurrent == 2
    with open(store.path("d" * 64), "wb") as handle:  # written before the count was kept
        np.savez(handle, key=np.array("d" * 64), proba=np.full((2, 2), 0.5), seconds=np.array([0.1, 0.01]))
    assert store.load("d" * 64, n_rows=2, n_labels=2).concurrent == 1

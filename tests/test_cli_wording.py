"""What ``genre benchmark`` says, in whose words and in which order: the group column named as the
user knows it (a manifest's ``artist``, not the extracted table's ``group``), the listing's notes
and the skipped files after the results, and an early ``--param`` check that survives a change
of scikit-learn's private API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf
from feature_tables import write_gtzan_table, write_list
from typer.testing import CliRunner

from genre.cli import app
from tests.conftest import tone
from tests.tone_manifests import write_tone_manifest

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def no_extraction(monkeypatch):
    import genre.features.extract as engine

    monkeypatch.setattr(engine, "extract_to_csv", lambda *a, **k: pytest.fail("extraction started"))


# -- 1. the group column as the user named it ------------------------------------------------------
def test_group_col_artist_is_named_artist_in_the_output_the_protocol_and_the_report(tmp_path):
    manifest = write_tone_manifest(tmp_path)
    report = tmp_path / "report"
    result = invoke("benchmark", manifest, "-m", "lda", "-k", "2", "--group-col", "artist", "-j", "1", "-o", report)
    assert result.exit_code == 0, result.output
    data = json.loads((report / "results.json").read_text())
    assert "over groups of column 'artist'" in data["protocol"]["description"]
    assert data["protocol"]["group_column"] == data["dataset"]["group_column"] == "artist"
    markdown = (report / "report.md").read_text()
    assert "groups of column 'artist'" in markdown and "Groups: column 'artist', 6 groups." in markdown
    assert "column 'group'" not in markdown and "column `group'" not in (report / "tables.tex").read_text()
    # The results still load, and a re-render writes the very same report.
    again = tmp_path / "again"
    result = invoke("report", report / "results.json", "-o", again)
    assert result.exit_code == 0, result.output
    for name in ("report.md", "report.html", "results.json", "tables.tex"):
        assert (again / name).read_bytes() == (report / name).read_bytes(), name


def test_a_manifests_group_column_is_named_as_its_first_line_writes_it(tmp_path, no_extraction):
    # Found, not named: the groups still come from the manifest's "Artist", never from a "group".
    manifest = write_tone_manifest(tmp_path, header="Path,Label,Artist", artists={"low2": "artist-low0"})
    test = write_list(tmp_path / "test.txt", ["low1.wav", "low2.wav", "high1.wav"])
    result = invoke("benchmark", manifest, "-m", "lda", "--test-list", test, "-j", "1", "-o", tmp_path / "r")
    assert result.exit_code == 2, result.output
    assert f"{test}: 1 group of column 'Artist' has tracks on both sides of the partition" in flat(result.output)


def test_the_pre_extraction_list_check_names_the_group_col_given(tmp_path, no_extraction):
    manifest = write_tone_manifest(tmp_path, artists={"low2": "artist-low0", "high2": "artist-high0"})
    train = write_list(tmp_path / "train.txt", ["low0.wav", "high0.wav"])
    test = write_list(tmp_path / "test.txt", ["low1.wav", "low2.wav", "high1.wav", "high2.wav"])
    result = invoke(
        "benchmark", manifest, "-m", "lda", "--train-list", train, "--test-list", test, "--group-col", "ARTIST",
        "-j", "1", "-o", tmp_path / "r",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    said = flat(result.output)
    # The manifest's spelling of the column the option named, in any case.
    assert f"{test}: 2 groups of column 'artist' have tracks on both sides of the partition" in said
    assert "Traceback" not in result.output


def test_tracks_without_an_artist_are_counted_in_the_artist_column(tmp_path):
    manifest = write_tone_manifest(tmp_path, artists={"low0": "", "high0": ""})
    report = tmp_path / "report"
    result = invoke("benchmark", manifest, "-m", "lda", "-k", "2", "--group-col", "artist", "-j", "1", "-o", report)
    assert result.exit_code == 0, result.output
    assert "2 of 6 tracks have no group in column 'artist'; each is its own group" in flat(result.output)


def test_the_python_call_recorded_keeps_the_group_col_given(tmp_path):
    from genre.benchmark import benchmark

    manifest = write_tone_manifest(tmp_path)
    results, _ = benchmark(manifest, output_dir=tmp_path / "r", models=["lda"], folds=2, group_col="artist")
    assert "group_col='artist'" in results.command


def test_a_feature_tables_own_group_column_keeps_its_name(tmp_path):
    table = write_gtzan_table(tmp_path / "t.csv", tracks_per_class=4)
    text = (tmp_path / "t.csv").read_text().splitlines()
    (tmp_path / "t.csv").write_text("\n".join([text[0] + ",group"] + [f"{r},g{i % 5}" for i, r in enumerate(text[1:])]))
    result = invoke("benchmark", table, "-m", "lda", "-k", "2", "-j", "1", "-o", tmp_path / "r")
    assert result.exit_code == 0, result.output
    assert "groups of column 'group'" in json.loads((tmp_path / "r" / "results.json").read_text())["protocol"][
        "description"
    ]


# -- 2. the listing's notes and the skipped files come after the results -----------------------------
@pytest.fixture
def messy_folder(tmp_path) -> Path:
    """Six tones in two label folders, a cover image and an unreadable .wav."""
    for label, base in (("low", 300.0), ("high", 2400.0)):
        for i in range(3):
            path = tmp_path / "audio" / label / f"{label}.{i}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, tone(3.2, freq=base + 40 * i, seed=i), 22050)
    (tmp_path / "audio" / "low" / "cover.png").write_bytes(b"png")
    (tmp_path / "audio" / "high" / "bad.wav").write_bytes(b"RIFF not audio")
    return tmp_path / "audio"


def test_the_notes_and_the_skipped_files_follow_the_results_and_precede_the_report(messy_folder, tmp_path):
    report = tmp_path / "report"
    args = ["benchmark", messy_folder, "-m", "lda", "-k", "3", "-j", "1", "-o", report]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    said = flat(result.output)
    note = "note: ignored 1 non-audio file (.png)"
    listed = report / "features" / "features.skipped.csv"
    # reused + extracted + skipped = the 7 audio files found
    skipped = f"features: 0 files reused, 6 extracted, 1 skipped (listed in {listed})"
    assert said.count(note) == 1 and said.count(skipped) == 1
    assert said.index("accuracy ± sd") < said.index("caveat:") < said.index(note) < said.index(skipped)
    assert said.index(skipped) < said.index("report: ")
    # The streams are as they were: the note on stderr, the summary lines on stdout.
    assert note in flat(result.stderr) and note not in flat(result.stdout)
    assert "features: " in result.stdout and "report: " in result.stdout
    # Reused, the table still lacks the file its first run skipped.
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "features: 6 files reused, 0 extracted, 1 skipped (listed in" in flat(result.output)


def test_an_interrupted_benchmark_still_says_the_notes_before_it_stops(messy_folder, tmp_path, monkeypatch):
    import genre.benchmark as bench

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(bench, "cross_validate_models", interrupted)
    result = invoke("benchmark", messy_folder, "-m", "lda", "-k", "3", "-j", "1", "-o", tmp_path / "report")
    assert result.exit_code == 130, result.output
    said = flat(result.output)
    note = "note: ignored 1 non-audio file (.png)"
    assert said.count(note) == 1 and said.index(note) < said.index("interrupted: no report was written")


def test_the_python_api_says_the_notes_itself_unless_given_a_receiver(messy_folder, tmp_path, capsys):
    from genre.benchmark import benchmark

    benchmark(messy_folder, output_dir=tmp_path / "a", models=["lda"], folds=3, jobs=1, progress=True)
    assert "ignored 1 non-audio file (.png)" in capsys.readouterr().err
    received: list[str] = []
    run = benchmark(
        messy_folder, output_dir=tmp_path / "b", models=["lda"], folds=3, jobs=1, progress=True, notes=received.append
    )
    assert received == ["ignored 1 non-audio file (.png)"] == list(run.features.notes)
    assert "ignored 1 non-audio file" not in capsys.readouterr().err
    assert run.features.tables[0].n_skipped == 1


# -- 3. scikit-learn's private parameter validation, guarded ------------------------------------------
def test_a_changed_private_validation_leaves_the_check_to_the_fit(monkeypatch):
    from sklearn.base import BaseEstimator

    from genre.benchmark import check_models

    def changed(self, required):  # a later scikit-learn that calls it otherwise
        raise AssertionError("not reached")

    # (The fit would call it too here: only genre's early check is tested.)
    monkeypatch.setattr(BaseEstimator, "_validate_params", changed)
    check_models(["logreg", "knn", "random-forest"])  # no TypeError (a traceback) from genre's own check
    check_models(["logreg"], {"logreg": {"C": -1}})  # not refused early: the fit refuses it


def test_a_removed_private_validation_leaves_the_check_to_the_fit(monkeypatch):
    from sklearn.base import BaseEstimator

    from genre.benchmark import check_models

    monkeypatch.delattr(BaseEstimator, "_validate_params")
    check_models(["logreg"], {"logreg": {"C": -1}})


def test_the_private_validation_still_refuses_a_bad_value_early():
    from genre.benchmark import check_models
    from genre.errors import ParameterError

    with pytest.raises(ParameterError, match=r"model logreg: The 'C' parameter of LogisticRegression must be"):
        check_models(["logreg"], {"logreg": {"C": -1}})

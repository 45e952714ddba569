"""``genre benchmark`` and ``genre report`` from the command line: output, files, and clean errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from feature_tables import write_gtzan_table, write_list
from typer.testing import CliRunner

from genre.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def table_path(tmp_path):
    return write_gtzan_table(tmp_path / "features_30_sec.csv", tracks_per_class=8)


def test_benchmark_writes_report_and_prints_headline(tmp_path, table_path):
    out = tmp_path / "report"
    result = invoke("benchmark", table_path, "--models", "logreg,knn", "--folds", "3", "--jobs", "1", "-o", out)
    assert result.exit_code == 0, result.output
    assert "logreg" in result.output and "knn" in result.output and "95% CI" in result.output
    assert "report.html" in result.output and "caveat" in result.output
    data = json.loads((out / "results.json").read_text())
    assert [m["name"] for m in data["models"]] == ["logreg", "knn"]
    assert data["protocol"]["folds"] == 3
    assert data["command"].startswith("genre benchmark ") and "--models logreg,knn" in data["command"]
    # Settings that decide the numbers are recorded at their defaults too: defaults may change.
    assert "--seed 0" in data["command"] and "--repeats 1" in data["command"]

    # `genre report` re-renders the same results elsewhere.
    again = tmp_path / "again"
    result = invoke("report", out / "results.json", "-o", again)
    assert result.exit_code == 0, result.output
    assert (again / "report.html").is_file() and (again / "report.md").read_text() == (out / "report.md").read_text()


def test_benchmark_with_list_files(tmp_path, table_path):
    genres = ("blues", "classical", "jazz", "metal")
    train = write_list(tmp_path / "train.txt", [f"{g}/{g}.{i:05d}.wav" for g in genres for i in range(5)])
    test = write_list(tmp_path / "test.txt", [f"{g}/{g}.{i:05d}.wav" for g in genres for i in range(5, 9)])
    result = invoke(
        "benchmark", table_path, "--models", "knn,logreg", "--train-list", train, "--test-list", test,
        "--jobs", "1", "-o", tmp_path / "r",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "fixed partition" in result.output
    assert "±" not in result.output  # one test set: no spread to show
    # Tracks 00008 (absent from the table) are reported as unmatched lines.
    assert "4 of 16 lines match no track" in result.output
    protocol = json.loads((tmp_path / "r" / "results.json").read_text())["protocol"]
    assert protocol["kind"] == "fixed" and {m["role"] for m in protocol["lists"]} == {"train", "test"}
    command = json.loads((tmp_path / "r" / "results.json").read_text())["command"]
    assert "--seed 0" in command and "--folds" not in command  # folds do not apply to a fixed partition


def _frame(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {"filename": [f"x.{i:05d}.wav" for i in range(n)]}
    base.update(columns)
    return pd.DataFrame(base)


BAD_TABLES = {
    "no-label": (_frame(f1=[1.0, 2.0, 3.0, 4.0]), "no label column found.*columns are filename, f1"),
    "text-feature": (
        _frame(f1=["1", "2", "three", "4"], f2=[1.0, 2, 3, 4], label=list("abab")),
        "feature column f1 holds non-numeric values.*--drop f1",
    ),
    "nan": (_frame(f1=[1.0, np.nan, 3, np.nan], label=list("abab")), "missing/NaN feature values in 2 rows, column f1"),
    "one-class": (_frame(f1=[1.0, 2, 3, 4], label=["a"] * 4), r"only one class \('a'\)"),
    "too-few-tracks": (
        _frame(f1=[1.0, 2, 3, 4, 5, 6, 7, 8], label=list("aaaaabbb")),
        r"a class has fewer tracks than folds \('b' has 3; 5 folds\); use --folds 3",
    ),
    "too-few-tracks-overall": (_frame(f1=[1.0, 2, 3, 4], label=list("abab")), "4 tracks for 5 folds; use --folds 4"),
}


@pytest.mark.parametrize("case", sorted(BAD_TABLES))
def test_bad_tables_give_one_clear_line_and_exit_2(tmp_path, case):
    import re

    frame, message = BAD_TABLES[case]
    path = tmp_path / f"{case}.csv"
    frame.to_csv(path, index=False)
    result = invoke("benchmark", path, "--models", "knn", "--jobs", "1", "-o", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.output.lstrip().startswith("error:")
    assert re.search(message, " ".join(result.output.split())), result.output
    assert str(path.name) in result.output
    assert not (tmp_path / "out" / "results.json").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--models", "knn,nope"], "unknown model 'nope'"),
        (["--label-col", "genre"], "--label-col 'genre' is not a column"),
        (["--drop", "nope"], "--drop nope: no such column"),
        (["--jobs", "0"], "--jobs 0"),
        (["--folds", "1"], "at least 2 folds"),
        (["--train-list", "train.txt"], "--train-list needs --test-list"),
        (["--test-list", "missing.txt"], "no such list file"),
    ],
)
def test_bad_options_give_exit_2(tmp_path, table_path, args, message):
    args = [str(tmp_path / a) if a.endswith(".txt") else a for a in args]
    result = invoke("benchmark", table_path, "--models", "knn", "--jobs", "1", *args, "-o", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert message in " ".join(result.output.split())


def test_list_matching_nothing_exits_2(tmp_path, table_path):
    test = write_list(tmp_path / "test.txt", ["rock/rock.00001.wav"])
    result = invoke("benchmark", table_path, "--models", "knn", "--test-list", test, "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert "test.txt: none of its 1 lines matches a track" in " ".join(result.output.split())


def test_missing_and_empty_tables_exit_2(tmp_path):
    result = invoke("benchmark", tmp_path / "nope.csv", "-o", tmp_path / "out")
    assert result.exit_code == 2 and "no such feature table" in result.output
    empty = tmp_path / "empty.csv"
    empty.write_text("filename,f1,label\n")
    result = invoke("benchmark", empty, "-o", tmp_path / "out")
    assert result.exit_code == 2 and "no data rows" in result.output


def test_report_of_a_bad_file_exits_2(tmp_path):
    result = invoke("report", tmp_path / "results.json")
    assert result.exit_code == 2 and "no such results file" in result.output


@pytest.mark.parametrize("empty", ["", "  "])
def test_empty_output_is_refused_not_taken_for_the_current_folder(tmp_path, table_path, monkeypatch, empty):
    from genre.errors import OutputError
    from genre.benchmark import benchmark

    report = tmp_path / "report"
    assert invoke("benchmark", table_path, "-m", "knn", "-k", "2", "-j", "1", "-o", report).exit_code == 0
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for command in (["benchmark", table_path, "-m", "knn", "-k", "2", "-j", "1"], ["report", report / "results.json"]):
        result = invoke(*command, "-o", empty)
        assert result.exit_code == 2, result.output
        assert result.output.strip() == "error: --output is empty; give a folder name to write to"
    with pytest.raises(OutputError, match="the output folder name is empty"):
        benchmark(table_path, output_dir=empty, models=["knn"], folds=2)
    assert not list(work.iterdir())


def test_an_audio_folder_too_small_for_the_folds_is_refused_before_extraction(tmp_path, write_wav, monkeypatch):
    import genre.features.extract as engine

    for label in ("rock", "jazz"):
        for i in range(3):
            write_wav(tmp_path / "audio" / label / f"{label}.{i:05d}.wav", 3.5, freq=200.0 + 300 * i)

    def no_extraction(*args, **kwargs):
        raise AssertionError("extracted before the fold check")

    monkeypatch.setattr(engine, "extract_to_csv", no_extraction)
    result = CliRunner().invoke(app, ["benchmark", str(tmp_path / "audio"), "-m", "logreg", "-o", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "a class has fewer tracks than folds ('jazz' has 3, 'rock' has 3; 5 folds); use --folds 3 or fewer" in said


def test_benchmark_straight_from_a_manifest_keeps_its_artists_apart(tmp_path, write_wav):
    """A manifest (path,label,artist) is audio to benchmark, as a folder is, and its artists are groups."""
    rows = ["path,label,artist"]
    for label, base in (("low", 180.0), ("high", 2400.0)):
        for i in range(6):
            write_wav(tmp_path / "audio" / f"{label}{i}.wav", 3.2, freq=base + 23 * i)
            rows.append(f"audio/{label}{i}.wav,{label},{label}-artist{i // 2}")
    manifest = tmp_path / "songs.csv"
    manifest.write_text("\n".join(rows) + "\n")
    result = CliRunner().invoke(
        app, ["benchmark", str(manifest), "-m", "lda", "--folds", "3", "-j", "1", "-o", str(tmp_path / "report")]
    )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "report" / "results.json").read_text())
    assert data["protocol"]["group_aware"] and data["dataset"]["n_groups"] == 6
    assert (tmp_path / "report" / "features" / "features.csv").is_file()

"""results.json of another version, the machine beside the times, and stale plots of an older render.

Each test pins a fix: a newer genre's extra fields are ignored (and kept when re-rendered in
place) while a newer format is refused as such, not as damage; results record and the report
states the machine the times were measured on (and says so when it was not recorded); a
re-render removes the plots of its previous render that it does not write, and nothing else.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform

import pytest
from feature_tables import write_gtzan_table
from typer.testing import CliRunner

from genre.cli import app
from genre.errors import DataError, OutputError
from genre.benchmark import benchmark
from genre.evaluation import cross_validate_models
from genre.evaluation.results import BenchmarkResults, describe_environment
from genre.features.table import load_feature_table
from genre.reports import load_results, render_report
from genre.reports.content import machine_text

runner = CliRunner()


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> BenchmarkResults:
    path = write_gtzan_table(tmp_path_factory.mktemp("t") / "features_30_sec.csv", tracks_per_class=4)
    return cross_validate_models(load_feature_table(path), ["logreg", "knn"], folds=2, progress=False)


def _write(path, data) -> None:
    path.write_text(json.dumps(data), encoding="utf-8")


def _newer(data: dict) -> dict:
    """``data`` as a newer genre might write it: extra fields at every level, same format number."""
    data = json.loads(json.dumps(data))
    data["provenance"] = {"git": "abc123"}
    data["models"][0]["calibration"] = {"ece": 0.1}
    data["models"][0]["folds"][0]["peak_memory_mb"] = 512
    data["models"][0]["summaries"]["accuracy"]["median"] = 0.5
    data["pairwise"][0]["effect_size"] = 0.3
    data["splits"][0]["n_val_tracks"] = 3
    data["environment"] = {"cpu": "Future CPU", "logical_cores": 64, "gpu": "Future GPU"}
    return data


# -- 1. reading results of another version ---------------------------------------------------------
def test_unknown_fields_of_a_newer_genre_are_ignored_and_kept_on_rewrite(results, tmp_path):
    data = _newer(results.to_dict())
    _write(tmp_path / "results.json", data)
    loaded = load_results(tmp_path / "results.json")  # was: "incomplete or damaged results file"
    assert loaded.model("logreg").accuracy == results.model("logreg").accuracy
    assert loaded.environment["cpu"] == "Future CPU"
    # Re-rendering in place (the default of genre report) loses none of the newer fields.
    assert loaded.to_dict() == data
    files = render_report(loaded, tmp_path)
    assert json.loads(files.json.read_text(encoding="utf-8")) == data
    # A changed copy cannot tell where they belong: they are dropped, never misplaced.
    changed = dataclasses.replace(loaded, models=loaded.models[::-1]).to_dict()
    assert "provenance" not in changed and all("calibration" not in m for m in changed["models"])


def test_a_newer_format_is_refused_as_newer_not_as_damaged(results, tmp_path):
    data = results.to_dict() | {"format": "genre-benchmark/2"}
    path = tmp_path / "results.json"
    _write(path, data)
    with pytest.raises(DataError) as caught:
        load_results(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert "written by a newer genre (format 2); this version reads format 1; upgrade genre" in message
    assert "damaged" not in message
    result = runner.invoke(app, ["report", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "newer genre (format 2)" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("fmt", ["genre-benchmark/0", "genre-benchmark/1.5", "genre-benchmark/x"])
def test_other_unknown_formats_are_not_called_newer(results, tmp_path, fmt):
    _write(tmp_path / "results.json", results.to_dict() | {"format": fmt})
    with pytest.raises(DataError, match="is not supported") as caught:
        load_results(tmp_path / "results.json")
    assert "newer" not in str(caught.value)


DAMAGE = {
    "fold field lost": (lambda d: d["models"][0]["folds"][1].pop("accuracy"), "models[0] (logreg).folds[1]: missing"),
    "fold accuracy text": (lambda d: d["models"][1]["folds"][0].update(accuracy="high"), "folds[0].accuracy"),
    "summary n text": (lambda d: d["models"][0]["summaries"]["accuracy"].update(n="2"), "summaries['accuracy'].n"),
    "pair p text": (lambda d: d["pairwise"][0].update(p_value="tiny"), "pairwise[0].p_value"),
    "cores text": (lambda d: d["environment"].update(logical_cores="64"), "environment.logical_cores"),
    "environment a list": (lambda d: d.update(environment=["x"]), "results.environment"),
}


@pytest.mark.parametrize("case", DAMAGE, ids=list(DAMAGE))
def test_real_damage_beside_unknown_fields_is_still_damage_naming_the_field(results, tmp_path, case):
    edit, field = DAMAGE[case]
    data = _newer(results.to_dict())
    edit(data)
    path = tmp_path / "results.json"
    _write(path, data)
    with pytest.raises(DataError, match="incomplete or damaged results file") as caught:
        load_results(path)
    assert str(path) in str(caught.value) and field in str(caught.value)


# -- 2. the machine ---------------------------------------------------------------------------------
def test_describe_environment_records_this_machine():
    environment = describe_environment()
    assert environment["logical_cores"] == os.cpu_count()
    assert environment["os"] == platform.platform() and environment["machine"] == platform.machine()
    if hasattr(os, "sched_getaffinity"):
        assert environment["usable_cores"] == len(os.sched_getaffinity(0))
    assert isinstance(environment.get("cpu", ""), str)
    json.dumps(environment)  # goes into results.json as it is


def test_benchmark_saves_the_machine_and_the_report_states_it(tmp_path):
    table = write_gtzan_table(tmp_path / "features_30_sec.csv", tracks_per_class=4)
    saved, files = benchmark(table, output_dir=tmp_path / "out", models=["logreg"], folds=2)
    data = json.loads(files.json.read_text(encoding="utf-8"))
    assert data["environment"] == describe_environment() == saved.environment
    assert data["versions"]["numpy"] and data["versions"]["python"]  # libraries stay in versions
    machine = machine_text(data["environment"])
    assert f"{os.cpu_count()} logical core" in machine and platform.platform() in machine
    assert f" on {machine}." in files.markdown.read_text(encoding="utf-8")
    assert f" on {machine}." in files.html.read_text(encoding="utf-8")


def test_machine_text_says_only_what_was_recorded():
    assert machine_text({}) == ""
    assert machine_text({"cpu": "AMD EPYC 7R13", "logical_cores": 32, "usable_cores": 8, "os": "Linux-6.1"}) == (
        "AMD EPYC 7R13, 32 logical cores of which 8 usable, Linux-6.1"
    )
    assert machine_text({"machine": "arm64", "logical_cores": 1, "usable_cores": 1}) == "arm64, 1 logical core"


def test_old_results_without_the_machine_load_and_say_it_was_not_recorded(results, tmp_path):
    data = results.to_dict()
    data.pop("environment")
    _write(tmp_path / "old.json", data)
    loaded = load_results(tmp_path / "old.json")
    assert loaded.environment == {}
    text = render_report(loaded, tmp_path / "out").markdown.read_text(encoding="utf-8")
    assert "the machine was not recorded" in text and "logical core" not in text


# -- 3. stale plots of a previous render --------------------------------------------------------------
def test_a_rerender_removes_the_plots_only_its_previous_render_wrote(results, tmp_path):
    out = tmp_path / "out"
    render_report(results, out)
    assert (out / "confusion_knn.png").is_file()
    mine = {"confusion_mine.png": b"user", "notes.png": b"user", "report.txt": b"user"}
    for name, content in mine.items():
        (out / name).write_bytes(content)
    fewer = dataclasses.replace(results, models=[results.model("logreg")], pairwise=[])
    files = render_report(fewer, out)
    assert not (out / "confusion_knn.png").exists()  # was left behind, stale
    assert {p.name for p in files.plots} == {"accuracy.png", "per_class_f1.png", "confusion_logreg.png"}
    assert all((out / name).read_bytes() == content for name, content in mine.items())
    names = {p.name for p in out.iterdir()}
    assert names == {p.name for p in files.all} | set(mine)


def test_a_failed_rerender_removes_nothing(results, tmp_path, monkeypatch):
    out = tmp_path / "out"
    render_report(results, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    fewer = dataclasses.replace(results, models=[results.model("logreg")], pairwise=[])
    monkeypatch.setattr(BenchmarkResults, "to_json", lambda self: '{"command": "\ud800"}')  # cannot be written
    with pytest.raises(UnicodeEncodeError):
        render_report(fewer, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_plots_are_not_removed_on_the_word_of_a_report_md_genre_did_not_write(results, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.md").write_text("# My notes\n\n![old](confusion_old.png)\n", encoding="utf-8")
    (out / "confusion_old.png").write_bytes(b"user")
    # The user's report.md is not replaced at all, and nothing it links is removed.
    with pytest.raises(OutputError, match="is not a genre benchmark report file"):
        render_report(results, out)
    assert (out / "confusion_old.png").read_bytes() == b"user"
    assert (out / "report.md").read_text(encoding="utf-8").startswith("# My notes")

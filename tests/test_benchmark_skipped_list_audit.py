"""Audit of ``genre benchmark AUDIO -o R`` (2026-12-04): the skipped-files list and the refusals after extraction.

1. A table reused whole kept the skipped list of the run that wrote it: byte-identical copies, broken
   links and empty label folders added since were counted on the features line but listed nowhere,
   and the results' caveat did not mention them. A list that differs from what this listing skips now
   makes the table out of date (:func:`genre.features.extract.table_is_current`), and the update,
   which reuses every row, writes this listing's list.
2. A refusal by the table's reader (one class left, no rows at all) did not say that skipped files
   caused it, as a refusal by the cross-validation does: the tables were read outside the block that
   adds it.
3. The sidecar records the folders the listing left out (``folders_left_out``), which are in the
   skipped list but are not files.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import genre.features.extract as engine
from genre.benchmark import benchmark
from genre.cli import app
from genre.data import load_dataset
from genre.data.tracks import read_skipped_csv
from genre.errors import DataError
from tests.conftest import write_tone_folder

runner = CliRunner()

#: Two classes of three tones each: enough for 2 folds, small enough to extract in seconds.
PITCHES = {"low": (220.0, 247.0, 262.0), "high": (880.0, 988.0, 1046.0)}


def flat(text: str) -> str:
    return " ".join(text.split())


def listed(out: Path) -> list[str]:
    return [path for path, _ in read_skipped_csv(out / "features" / "features.skipped.csv") or []]


def current(out: Path, root: Path) -> bool:
    return engine.table_is_current(
        out / "features" / "features.csv", dataset=load_dataset(root), extractor=engine.choose_extractor()
    )


# -- 1. the skipped list of a reused table is this listing's -------------------------------------------
@pytest.fixture
def changed(tmp_path) -> tuple[Path, Path, list[Path]]:
    """A tone folder benchmarked once, then given a copy, an empty label folder and a broken link."""
    root = write_tone_folder(tmp_path / "audio", PITCHES, seconds=3.5)
    out = tmp_path / "report"
    first = benchmark(root, output_dir=out, models=["logreg"], folds=2, jobs=1)
    assert first.features.tables[0].n_extracted == 6 and listed(out) == []
    copy = root / "low" / "low.copy.wav"
    shutil.copyfile(root / "low" / "low.00000.wav", copy)
    empty = root / "empty"
    empty.mkdir()
    broken = root / "high" / "broken.wav"
    os.symlink(tmp_path / "nonexistent.wav", broken)
    return root, out, [copy, broken, empty]


def test_a_reused_table_lists_the_files_this_listing_rejects(changed):
    root, out, added = changed
    assert not current(out, root)  # the fingerprint of its tracks is the same; its skipped list is not
    run = benchmark(root, output_dir=out, models=["logreg"], folds=2, jobs=1)
    table = run.features.tables[0]
    # Nothing extracted again: every row is reused.
    assert (table.n_reused, table.n_extracted, table.n_skipped, table.n_folders_left_out) == (6, 0, 2, 1)
    assert sorted(listed(out)) == sorted(str(path) for path in added)
    caveat = flat(run[0].protocol["caveat"] or "")
    assert "could not be used" in caveat and "features.skipped.csv" in caveat
    assert any(str(path) in caveat for path in added)
    meta = json.loads((out / "features" / "features.json").read_text())
    assert meta["n_skipped"] == 3
    # A plain rerun now reuses the table as it is, instantly.
    assert current(out, root)


def test_the_cli_lists_them_too(changed):
    root, out, added = changed
    result = runner.invoke(app, ["benchmark", str(root), "-m", "logreg", "-k", "2", "-j", "1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 skipped, 1 folder left out" in flat(result.output)
    assert sorted(listed(out)) == sorted(str(path) for path in added)


def test_a_rejection_gone_since_leaves_the_list(changed):
    root, out, (copy, broken, empty) = changed
    benchmark(root, output_dir=out, models=["logreg"], folds=2, jobs=1)
    broken.unlink()
    empty.rmdir()
    assert not current(out, root)
    run = benchmark(root, output_dir=out, models=["logreg"], folds=2, jobs=1)
    assert listed(out) == [str(copy)]
    assert (run.features.tables[0].n_skipped, run.features.tables[0].n_folders_left_out) == (1, 0)


def benchmarked_with_a_corrupt_file(tmp_path: Path, *, label: str) -> tuple[Path, Path, Path]:
    """Tones plus ``<label>/corrupt.wav``, benchmarked once into ``report``: (audio root, corrupt file, report)."""
    root = write_tone_folder(tmp_path / "audio", PITCHES, seconds=3.5)
    corrupt = root / label / "corrupt.wav"
    corrupt.write_bytes(b"RIFF not really a wave file" * 50)
    out = tmp_path / "report"
    benchmark(root, output_dir=out, models=["logreg"], folds=2, jobs=1)
    return root, corrupt, out


def test_files_an_earlier_extraction_skipped_stay_listed(tmp_path):
    root, corrupt, out = benchmarked_with_a_corrupt_file(tmp_path, label="high")
    assert listed(out) == [str(corrupt)]
    assert current(out, root)  # unchanged: reused whole
    copy = root / "high" / "high.copy.wav"
    shutil.copyfile(root / "high" / "high.00001.wav", copy)
    run = benchmark(root, output_dir=out, models=["logreg"], folds=2, jobs=1)
    assert sorted(listed(out)) == sorted([str(corrupt), str(copy)])
    assert run.features.tables[0].n_skipped == 2
    assert "2 files of the source could not be used" in flat(run[0].protocol["caveat"] or "")


def test_a_deleted_skipped_list_is_written_again(tmp_path):
    root, corrupt, out = benchmarked_with_a_corrupt_file(tmp_path, label="low")
    (out / "features" / "features.skipped.csv").unlink()
    assert not current(out, root)
    benchmark(root, output_dir=out, models=["logreg"], folds=2, jobs=1)
    assert listed(out) == [str(corrupt)]


# -- 2. a refusal by the table's reader says that skipped files caused it -------------------------------
def test_one_class_left_by_the_skipped_files_says_so(tmp_path):
    root = tmp_path / "audio"
    for label, mark in (("a", "x"), ("b", "y")):
        (root / label).mkdir(parents=True)
        for i in range(1, 4):
            (root / label / f"{i}.wav").write_bytes(f"{mark}{i}".encode())  # not audio, and no two alike
    write_tone_folder(tmp_path / "good", {"a": (440.0,)}, seconds=3.5)
    shutil.copyfile(tmp_path / "good" / "a" / "a.00000.wav", root / "a" / "good.wav")
    with pytest.raises(DataError) as caught:
        benchmark(root, output_dir=tmp_path / "report", models=["logreg"], folds=2, jobs=1)
    message = flat(str(caught.value))
    assert "only one class ('a')" in message
    assert "6 of the source's files were skipped" in message and "features.skipped.csv" in message


def test_a_manifest_of_missing_files_says_they_were_skipped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("m5.csv").write_text("path,label\nno/a1.wav,a\nno/a2.wav,a\nno/b1.wav,b\nno/b2.wav,b\n")
    result = runner.invoke(app, ["benchmark", "m5.csv", "-m", "logreg", "-k", "2", "-j", "1", "-o", "RM5"])
    assert result.exit_code == 2, result.output
    message = flat(result.output)
    assert "no data rows" in message
    assert "4 of the source's files were skipped" in message and "features.skipped.csv" in message
    assert "Traceback" not in result.output


# -- 3. folders are not files ------------------------------------------------------------------------
def test_the_sidecar_records_the_folders_left_out(tmp_path):
    root = write_tone_folder(tmp_path / "audio", PITCHES, seconds=3.5)
    (root / "empty").mkdir()
    (root / "high" / "corrupt.wav").write_bytes(b"RIFF not really a wave file" * 50)
    out = tmp_path / "report"
    run = benchmark(root, output_dir=out, models=["logreg"], folds=2, jobs=1)
    assert (run.features.tables[0].n_skipped, run.features.tables[0].n_folders_left_out) == (1, 1)
    meta = json.loads((out / "features" / "features.json").read_text())
    assert meta[engine.FOLDERS_KEY] == [str(root / "empty")]
    assert meta["n_skipped"] == 2  # the list's lines, as before


def test_a_sidecar_without_the_folders_is_updated_once(tmp_path):
    root = write_tone_folder(tmp_path / "audio", PITCHES, seconds=3.5)
    (root / "empty").mkdir()
    out = tmp_path / "report"
    benchmark(root, output_dir=out, models=["logreg"], folds=2, jobs=1)
    sidecar = out / "features" / "features.json"
    assert current(out, root)
    meta = json.loads(sidecar.read_text())
    del meta[engine.FOLDERS_KEY]  # as the previous version wrote it
    sidecar.write_text(json.dumps(meta))
    assert not current(out, root)
    run = benchmark(root, output_dir=out, models=["logreg"], folds=2, jobs=1)
    assert run.features.tables[0].n_extracted == 0  # the rows are reused
    assert json.loads(sidecar.read_text())[engine.FOLDERS_KEY] == [str(root / "empty")]
    assert current(out, root)


def test_the_caveat_counts_files_and_folders_apart(tmp_path):
    root = write_tone_folder(tmp_path / "audio", PITCHES, seconds=3.5)
    (root / "aaa_empty").mkdir()  # sorted first in the list: the example must still be a file
    corrupt = root / "high" / "corrupt.wav"
    corrupt.write_bytes(b"RIFF not really a wave file" * 50)
    run = benchmark(root, output_dir=tmp_path / "report", models=["logreg"], folds=2, jobs=1)
    caveat = flat(run[0].protocol["caveat"] or "")
    assert "1 file of the source could not be used" in caveat
    assert "1 folder" in caveat
    assert f"e.g. {corrupt}" in caveat or f": {corrupt}" in caveat

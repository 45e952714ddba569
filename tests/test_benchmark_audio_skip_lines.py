"""``genre benchmark AUDIO`` names each file its extraction skipped, as ``genre extract`` does.

It said only a count (``3 skipped, see features.skipped.csv``) and, in the results' caveat,
one example: the user had to open the CSV to learn which files were left out and why. Now the
same ``skipped <file>: <reason>`` lines as ``genre extract`` are printed (by the same function,
capped the same way), after the results and before the ``features:`` summary; on a rerun that
reuses the table (nothing extracted) they are printed again, as ``genre extract --overwrite``
prints them again on a table it reuses; a file that several tables skipped (handcrafted and
musicnn) is named once.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from genre import cli
from genre.benchmark import benchmark
from genre.cli import app
from genre.features.config import FeatureConfig
from genre.features.handcrafted import HandcraftedExtractor
from tests.conftest import write_tone_folder

runner = CliRunner()

#: Two classes of three tones each: enough for 2 folds, small enough to extract in seconds.
PITCHES = {"low": (220.0, 247.0, 262.0), "high": (880.0, 988.0, 1046.0)}


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def skipped_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("skipped ") and ": " in line]


def flat(text: str) -> str:
    return " ".join(text.split())


def with_bad_files(root: Path) -> list[Path]:
    """A corrupt, an empty and a too-short file among ``root``'s label folders."""
    broken, empty, short = root / "high" / "broken.wav", root / "low" / "empty.wav", root / "low" / "short.wav"
    broken.write_bytes(b"RIFF not really a wave file" * 50)
    empty.write_bytes(b"")
    sf.write(short, np.full(100, 0.1), 22050)
    return [broken, empty, short]


@pytest.fixture
def audio(tmp_path) -> tuple[Path, list[Path]]:
    root = write_tone_folder(tmp_path / "audio", PITCHES, seconds=3.5)
    return root, with_bad_files(root)


def benchmark_args(root: Path, out: Path, models: str = "logreg") -> list:
    return ["benchmark", root, "--models", models, "--folds", "2", "-j", "1", "-o", out]


def test_each_skipped_file_is_named_as_genre_extract_names_it(audio, tmp_path):
    root, bad = audio
    extracted = invoke("extract", root, "-o", tmp_path / "f.csv", "-j", "1")
    assert extracted.exit_code == 0, extracted.output
    expected = skipped_lines(extracted.output)
    assert len(expected) == 3 and all(any(str(path) in line for line in expected) for path in bad)

    out = tmp_path / "report"
    result = invoke(*benchmark_args(root, out))
    assert result.exit_code == 0, result.output
    assert skipped_lines(result.output) == expected
    lines = result.output.splitlines()
    # At the end, where the folds' progress cannot scroll them away: after the results, then the count.
    last = max(i for i, line in enumerate(lines) if line in expected)
    assert lines[last + 1].startswith("features: 0 files reused, 6 extracted, 3 skipped (listed in ")
    # The caveat of the results stays, with its one example, as the report has it.
    assert "3 files of the source could not be used when features.csv was extracted" in flat(result.output)


def test_a_rerun_that_reuses_the_table_names_them_again(audio, tmp_path):
    # As `genre extract --overwrite` does on a table it reuses: the files are still in no split.
    root, _ = audio
    out = tmp_path / "report"
    first = invoke(*benchmark_args(root, out))
    again = invoke(*benchmark_args(root, out))
    assert again.exit_code == 0, again.output
    assert "handcrafted: using" in again.output  # nothing extracted
    assert len(skipped_lines(first.output)) == 3
    assert skipped_lines(again.output) == skipped_lines(first.output)
    assert "features: 6 files reused, 0 extracted, 3 skipped" in again.output


def test_a_clean_folder_prints_no_such_line(tmp_path):
    root = write_tone_folder(tmp_path / "audio", PITCHES, seconds=3.5)
    result = invoke(*benchmark_args(root, tmp_path / "report"))
    assert result.exit_code == 0, result.output
    assert skipped_lines(result.output) == [] and "more skipped" not in result.output


def test_a_long_list_is_cut_as_genre_extract_cuts_it(tmp_path):
    root = write_tone_folder(tmp_path / "audio", PITCHES, seconds=3.5)
    n = cli.SKIPPED_LISTED_IN_FULL + 3
    # Not a format genre reads: skipped by the listing, nothing decoded (see tests/test_long_skip_lists.py).
    odd = [root / "low" / f"cover{i:02d}.wma" for i in range(n)]
    for path in odd:
        path.write_bytes(b"")
    out = tmp_path / "report"
    result = invoke(*benchmark_args(root, out))
    assert result.exit_code == 0, result.output
    assert skipped_lines(result.output) == [
        f"skipped {p}: unsupported format '.wma'" for p in odd[: cli.SKIPPED_LISTED_FIRST]
    ]
    listed = out / "features" / "features.skipped.csv"
    more = n - cli.SKIPPED_LISTED_FIRST
    assert f"... and {more} more skipped (all listed in {listed})" in result.output.splitlines()


def test_a_refusal_after_extracting_names_the_files_that_caused_it(tmp_path):
    # The listing had 2 tracks of 'high' (enough for 2 folds); the corrupt one is skipped, so the
    # table has 1 and the folds are refused after extracting: the lines say which file and why.
    root = write_tone_folder(tmp_path / "audio", {"low": (220.0, 247.0), "high": (880.0,)}, seconds=3.5)
    broken = root / "high" / "broken.wav"
    broken.write_bytes(b"RIFF not really a wave file" * 50)
    result = runner.invoke(app, [str(a) for a in benchmark_args(root, tmp_path / "report")])
    assert result.exit_code == 2, result.output
    assert skipped_lines(result.output) == [f"skipped {broken}: cannot decode audio (Format not recognised)"]
    lines = result.output.splitlines()
    assert lines.index(skipped_lines(result.output)[0]) < next(i for i, l in enumerate(lines) if "error" in l)
    assert "fewer tracks than folds" in flat(result.output) and "Traceback" not in result.output


# -- a second table (musicnn) skips the same files: each is named once --------------------------------------
@dataclasses.dataclass(frozen=True)
class FakeMusicnn(HandcraftedExtractor):
    """Stands in for musicnn (no TensorFlow): 1 s handcrafted rows under musicnn's column names."""

    kind: str = "musicnn"

    def feature_columns(self) -> list[str]:
        return [f"musicnn_max_pool_{i:03d}" for i in range(1, len(super().feature_columns()) + 1)]


@pytest.fixture
def fake_musicnn(monkeypatch):
    import genre.benchmark as module

    factory = ("musicnn.csv", lambda: FakeMusicnn(FeatureConfig(segment_seconds=1.0)))
    monkeypatch.setitem(module.TABLE_EXTRACTORS, "musicnn", factory)


def test_files_both_tables_skipped_are_named_once(audio, tmp_path, fake_musicnn):
    root, bad = audio
    # 2 s: too short for a 3 s handcrafted segment, long enough for the fake musicnn's 1 s rows.
    only_handcrafted = root / "high" / "two_seconds.wav"
    sf.write(only_handcrafted, 0.3 * np.sin(np.linspace(0, 2000, 44100)), 22050)
    out = tmp_path / "report"
    result = invoke(*benchmark_args(root, out, models="logreg,musicnn-logreg"))
    assert result.exit_code == 0, result.output
    lines = skipped_lines(result.output)
    named = [path for path in [*bad, only_handcrafted] for line in lines if line.startswith(f"skipped {path}: ")]
    assert sorted(named) == sorted([*bad, only_handcrafted])  # each once
    assert len(lines) == 4
    # Skipped by every table: the reason as `genre extract` of the first table words it.
    extracted = invoke("extract", root, "-o", tmp_path / "f.csv", "-j", "1")
    expected = {line.split(": ", 1)[0]: line for line in skipped_lines(extracted.output)}
    for path in bad:
        assert expected[f"skipped {path}"] in lines
    # Skipped by one table only: said so, or the musicnn model's numbers would seem to lack it too.
    (line,) = [line for line in lines if line.startswith(f"skipped {only_handcrafted}: ")]
    assert line == f"{expected[f'skipped {only_handcrafted}']} (only for the handcrafted features)"

    # From Python, as the CLI prints them.
    run = benchmark(root, output_dir=out, models=["logreg", "musicnn-logreg"], folds=2, jobs=1)
    skipped, folders, listed_in = run.features.skipped_files()
    assert [path for path, _ in skipped] == [line.split(": ", 1)[0][len("skipped "):] for line in lines]
    assert folders == set()
    assert listed_in == [out / "features" / "features.skipped.csv", out / "features" / "musicnn.skipped.csv"]

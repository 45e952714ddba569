"""Extraction against three hazards: a second run on the same output (held off by the lock),
audio files cut short (a header promising more than the file holds), and worker processes
that die (killed for memory, a crash in a decoder)."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from genre.cli import app
from genre.data import Dataset, Track
from genre.errors import AudioError
from genre.features.audio import _declared_data, load_audio
from genre.features.executors import WORKER_DIED, LocalExecutor, TaskFailure
from genre.features.extract import extract_to_csv
from genre.features.handcrafted import ClipFeatures
from tests.conftest import REPO, SHARED_DATA, tone, write_tone_folder

runner = CliRunner()
SR = 22050


def one_line(output: str) -> str:
    return " ".join(output.split())


# -- 1. one run per output -----------------------------------------------------------------------
def test_a_second_process_is_refused_while_the_first_holds_the_output(tmp_path):
    audio = write_tone_folder(tmp_path / "audio", {"low": (200.0,), "high": (2000.0,)}, seconds=3.5)
    out = tmp_path / "f.csv"
    holder = (
        "import sys; from pathlib import Path; from genre.atomic import OutputLock\n"
        "with OutputLock(Path(sys.argv[1])):\n"
        "    print('held', flush=True)\n"
        "    sys.stdin.read()\n"
    )
    first = subprocess.Popen(
        [sys.executable, "-c", holder, str(out)], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert first.stdout.readline() == "held\n"
        result = runner.invoke(app, ["extract", str(audio), "-o", str(out), "--jobs", "1"])
        assert result.exit_code == 2, result.output
        message = one_line(result.output)
        assert f"another extraction (pid {first.pid} on " in message and f"is writing {out}" in message
        assert "Traceback" not in message
        assert sorted(p.name for p in tmp_path.iterdir()) == ["audio", "f.csv.lock"]  # nothing of its own
    finally:
        first.kill()  # as kill -9: the kernel drops its lock, and its lock file is left behind
        first.wait()
    assert out.with_name("f.csv.lock").exists()
    assert extract_to_csv(audio, out, jobs=1).n_extracted == 2
    assert not out.with_name("f.csv.lock").exists()


# -- 2. audio files cut short ----------------------------------------------------------------------
#: (extension, soundfile format, subtype, channels): every container whose header states its data size.
SIZED = [
    ("wav", "WAV", "PCM_16", 1),
    ("wav", "WAV", "FLOAT", 2),
    ("wav", "WAV", "IMA_ADPCM", 1),
    ("wav", "RF64", "PCM_24", 1),
    ("aiff", "AIFF", "PCM_16", 2),
    ("aif", "AIFF", "PCM_24", 1),
    ("au", "AU", "PCM_16", 1),
    ("snd", "AU", "ULAW", 2),
]
#: The other formats genre reads: their headers state no exact size.
UNSIZED = [
    ("flac", "FLAC", "PCM_16", 1),
    ("ogg", "OGG", "VORBIS", 2),
    ("oga", "OGG", "VORBIS", 1),
    ("mp3", "MP3", None, 1),
]


def write(path: Path, *, fmt: str, subtype: str | None, channels: int, seconds: float = 3.0) -> Path:
    sf.write(path, tone(seconds, channels=channels), SR, format=fmt, subtype=subtype)
    return path


def cut(path: Path, fraction: float, name: str) -> Path:
    """A copy of ``path`` without the end of its bytes, as a download stopped early leaves it."""
    data = path.read_bytes()
    short = path.with_name(name)
    short.write_bytes(data[: int(len(data) * fraction)])
    return short


@pytest.mark.parametrize("ext, fmt, subtype, channels", SIZED + UNSIZED)
def test_whole_files_of_every_format_are_not_taken_for_cut_ones(tmp_path, ext, fmt, subtype, channels):
    path = write(tmp_path / f"whole.{ext}", fmt=fmt, subtype=subtype, channels=channels)
    y, sr = load_audio(path)
    assert sr == SR and abs(len(y) / SR - 3.0) < 0.2


@pytest.mark.parametrize("ext, fmt, subtype, channels", SIZED)
def test_a_sized_file_cut_short_is_refused_with_both_durations(tmp_path, ext, fmt, subtype, channels):
    whole = write(tmp_path / f"whole.{ext}", fmt=fmt, subtype=subtype, channels=channels)
    short = cut(whole, 0.5, f"short.{ext}")
    said = r"short\.\w+: truncated \(the header promises 3\.\d\d s, the file holds 1\.\d\d s\)$"
    with pytest.raises(AudioError, match=said):
        load_audio(short)
    # Its last few bytes missing (under TRUNCATION_TOLERANCE_S): decoded, as libsndfile does.
    assert len(load_audio(cut(whole, 0.999, f"nearly.{ext}"))[0]) > 0.99 * 3.0 * SR


def test_an_mp3_cut_short_is_refused_by_its_xing_header(tmp_path, capfd):
    # The Xing header gives the whole stream's length; the decoder stops early. (A FLAC cut
    # short is refused by its decoder, which loses sync.)
    whole = write(tmp_path / "whole.mp3", fmt="MP3", subtype=None, channels=1)
    capfd.readouterr()
    with pytest.raises(AudioError, match=r"short\.mp3: truncated \(the header promises 3\.\d\d s, the file holds 1\.\d\d s\)"):
        load_audio(cut(whole, 0.4, "short.mp3"))
    assert capfd.readouterr().err == ""  # libmpg123's "Xing stream size off" line, naming no file, is dropped


def test_what_libmpg123_says_of_a_file_it_decodes_names_the_file(tmp_path, capfd):
    import os

    from genre.features.audio import _decoder_messages

    capfd.readouterr()
    with _decoder_messages(tmp_path / "song.mp3"):
        os.write(2, b"Warning: something odd in this stream\n")
    assert capfd.readouterr().err == f"{tmp_path / 'song.mp3'}: libmpg123: Warning: something odd in this stream\n"


def test_a_wav_with_chunks_around_its_data_or_of_unknown_size_is_not_cut(tmp_path):
    data = bytearray(write(tmp_path / "a.wav", fmt="WAV", subtype="PCM_16", channels=1).read_bytes())
    with_tail = data + b"LIST" + struct.pack("<I", 5) + b"INFOx\0"  # odd size: padded to even
    with_tail[4:8] = struct.pack("<I", len(with_tail) - 8)
    (tmp_path / "tail.wav").write_bytes(with_tail)
    at = data.index(b"data")
    streamed = data[: at + 4] + struct.pack("<I", 0xFFFFFFFF) + data[at + 8 :]  # as written to a pipe
    (tmp_path / "streamed.wav").write_bytes(streamed)
    for name in ("tail.wav", "streamed.wav"):
        assert len(load_audio(tmp_path / name)[0]) == 3 * SR


def test_the_gtzan_clips_are_whole():
    clips = sorted((SHARED_DATA / "gtzan-mini").glob("*/*.wav"))
    if not clips:
        pytest.skip("the shared GTZAN clips are not here")
    for clip in clips:  # the header alone: decoding a hundred 30 s clips would take a while
        start, size = _declared_data(clip)
        assert start + size <= clip.stat().st_size, clip
    assert len(load_audio(clips[0])[0]) == sf.info(clips[0]).frames


def test_a_batch_skips_a_cut_file_with_its_reason_and_extracts_the_rest(tmp_path):
    audio = write_tone_folder(tmp_path / "audio", {"low": (200.0, 250.0), "high": (2000.0,)}, seconds=3.5)
    whole = audio / "low" / "low.00001.wav"
    whole.write_bytes(whole.read_bytes()[: 44 + 2 * int(1.5 * SR)])  # 1.5 s of 3.5 s: one segment's worth lost
    out = tmp_path / "f.csv"
    result = runner.invoke(app, ["extract", str(audio), "-o", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    message = one_line(result.output)
    assert f"skipped {whole}: truncated (the header promises 3.50 s, the file holds 1.50 s)" in message
    assert "2 of 3 files extracted" in message and "1 skipped" in message and "Traceback" not in message


# -- 3. worker processes that die -------------------------------------------------------------------
class DyingExtractor:
    """Features from a file's size; the worker dies on ``kill*`` and ``exit*`` files, and on ``once*``
    files the first time only (as under memory pressure from other work beside it)."""

    kind = "dying"

    def feature_columns(self) -> list[str]:
        return ["n_bytes"]

    def describe(self) -> dict:
        return {"kind": self.kind}

    def extract_file(self, path: str) -> ClipFeatures:
        name = Path(path).name
        if name.startswith("kill"):
            os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
        if name.startswith("exit"):
            os._exit(1)
        died = Path(path).with_suffix(".died")
        if name.startswith("once") and not died.exists():
            died.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return ClipFeatures(starts=np.zeros(1), values=np.array([[float(os.path.getsize(path))]]))


def dataset(folder: Path, names: list[str]) -> Dataset:
    folder.mkdir()
    tracks = []
    for i, name in enumerate(names):
        (folder / name).write_bytes(b"x" * (i + 1))
        tracks.append(Track(path=str(folder / name), track=name, label="a"))
    return Dataset(tracks=tracks, rejected=[], name="dying")


def test_a_file_that_kills_its_worker_is_skipped_and_the_batch_goes_on(tmp_path):
    # once.bin first: its one death happens in the pool, beside other files, never when tried alone.
    names = ["once.bin", "ok0.bin", "ok1.bin", "ok2.bin", "kill.bin", "ok3.bin", "exit.bin", "ok4.bin", "ok5.bin"]
    data = dataset(tmp_path / "files", names)
    report = extract_to_csv(data, tmp_path / "f.csv", extractor=DyingExtractor(), jobs=2)
    assert report.skipped == [(str(tmp_path / "files" / n), WORKER_DIED) for n in ("kill.bin", "exit.bin")]
    # The files in flight beside them, and the one that died only once, are extracted.
    assert report.n_extracted == len(names) - 2
    table = (tmp_path / "f.csv").read_text().splitlines()[1:]
    assert [row.split(",")[1] for row in table] == [n for n in names if n not in ("kill.bin", "exit.bin")]


def test_the_local_executor_yields_a_task_failure_for_the_item_that_killed_its_worker():
    results = list(LocalExecutor(jobs=2).map_unordered(_die_on_three, range(8)))
    assert TaskFailure(3, WORKER_DIED) in results
    assert sorted(r for r in results if not isinstance(r, TaskFailure)) == [0, 1, 2, 4, 5, 6, 7]


def _die_on_three(x: int) -> int:
    if x == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return x

"""Executors start nothing without work; extraction takes file names that are not UTF-8
(from a hand-built Dataset) through fingerprint, journal, resume and table; one ``plural``."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import genre.features.extract as engine
from genre.data import Dataset, Track
from genre.data.tracks import printable
from genre.features.executors import DaskExecutor, LocalExecutor
from genre.features.extract import extract_to_csv, side_paths, table_is_current
from genre.features.handcrafted import ClipFeatures
from genre.text import plural


# -- 1. no work, nothing started ------------------------------------------------------------------
def no_items():
    """Empty sources of items: with a length, and a generator (whose length cannot be asked)."""
    return [[], (x for x in ())]


@pytest.mark.parametrize("scheduler", [None, "tcp://10.0.0.5:8786"], ids=["local-cluster", "scheduler"])
def test_dask_executor_starts_or_reaches_no_cluster_without_an_item(monkeypatch, scheduler):
    distributed = pytest.importorskip("distributed")

    def refuse(*args, **kwargs):
        pytest.fail("a cluster was started or reached for no item")

    monkeypatch.setattr(distributed, "LocalCluster", refuse)
    monkeypatch.setattr(distributed, "Client", refuse)
    executor = DaskExecutor(scheduler=scheduler, n_workers=4)
    for items in no_items():
        assert list(executor.map_unordered(abs, items)) == []
    assert executor._client is None and executor._cluster is None


def test_dask_executor_connects_at_its_first_item_and_keeps_it(monkeypatch):
    """The item taken to tell whether there is work is not lost: it reaches the cluster."""
    pytest.importorskip("distributed")

    class Started(Exception):
        pass

    def connect(self):
        raise Started

    taken = []

    def items():
        for x in (-1, -2):
            taken.append(x)
            yield x

    monkeypatch.setattr(DaskExecutor, "_connect", connect)
    with pytest.raises(Started):
        list(DaskExecutor(n_workers=1).map_unordered(abs, items()))
    assert taken == [-1]  # only the first item was taken before connecting
    monkeypatch.undo()
    with DaskExecutor(n_workers=1) as executor:  # a real one-worker cluster, on a generator
        assert sorted(executor.map_unordered(abs, (x for x in (-1, -2, -3)))) == [1, 2, 3]


def test_local_executor_starts_no_process_for_a_generator_of_none_or_one(monkeypatch):
    import joblib

    sizes = []

    def parallel(*, n_jobs: int, **kwargs):
        sizes.append(n_jobs)
        return lambda tasks: [f(*a, **k) for f, a, k in tasks]

    monkeypatch.setattr(joblib, "Parallel", parallel)
    executor = LocalExecutor(jobs=4)
    for items in no_items():
        assert list(executor.map_unordered(abs, items)) == []
    assert list(executor.map_unordered(abs, (x for x in [-1]))) == [1]
    assert sizes == []  # no process pool for none or one item
    # More than one: processes start, all asked for since a generator's length is unknown.
    assert sorted(executor.map_unordered(abs, (x for x in [-1, -2, -3]))) == [1, 2, 3] and sizes == [4]


# -- 2. file names that are not UTF-8 ----------------------------------------------------------------
class ByteExtractor:
    """Features read from a file's bytes: extraction without audio decoding (which is not tested here)."""

    kind = "bytes"

    def feature_columns(self) -> list[str]:
        return ["n_bytes", "first_byte"]

    def describe(self) -> dict:
        return {"kind": self.kind}

    def extract_file(self, path) -> ClipFeatures:
        with open(path, "rb") as handle:
            data = handle.read()
        return ClipFeatures(starts=np.zeros(1), values=np.array([[len(data), data[0]]], dtype=float))


def non_utf8_file(folder: Path, name: bytes, content: bytes) -> str:
    """Create ``folder/name`` and return its path as ``os.fsdecode`` gives it (stray bytes as surrogates)."""
    if sys.platform == "win32":
        pytest.skip("Windows file names are UTF-16: no stray bytes to decode")
    path = os.path.join(os.fsencode(folder), name)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except (OSError, ValueError):
        pytest.skip("this file system refuses file names that are not UTF-8")
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    return os.fsdecode(path)


@pytest.fixture
def hand_built(tmp_path) -> Dataset:
    """A hand-built dataset: a file named in Latin-1 (``café``), then a plain one."""
    latin = non_utf8_file(tmp_path, b"caf\xe9.bin", b"\x07latin-1 name")
    plain = tmp_path / "plain.bin"
    plain.write_bytes(b"\x03plain")
    tracks = [Track(path=latin, track=os.fsdecode(b"caf\xe9"), label="rock"), Track(path=str(plain), track="plain")]
    return Dataset(tracks=tracks, rejected=[], name="hand-built")


def test_a_non_utf8_path_is_extracted_into_a_utf8_table(hand_built, tmp_path):
    out = tmp_path / "features.csv"
    report = extract_to_csv(hand_built, out, extractor=ByteExtractor(), jobs=1)
    assert (report.n_extracted, report.skipped) == (2, [])
    text = out.read_bytes().decode("utf-8")  # strict: the table is UTF-8 text
    rows = list(csv.DictReader(text.splitlines()))
    latin = hand_built.tracks[0].path
    assert rows[0]["path"] == printable(latin) == latin.replace("\udce9", "\\xe9")
    assert (rows[0]["track"], rows[0]["n_bytes"], rows[0]["first_byte"]) == ("caf\\xe9", "13", "7")
    assert rows[1]["path"] == hand_built.tracks[1].path
    assert table_is_current(out, dataset=hand_built, extractor=ByteExtractor())


def test_a_run_over_a_non_utf8_path_resumes_to_the_bytes_of_an_uninterrupted_run(hand_built, tmp_path, monkeypatch):
    reference = tmp_path / "reference.csv"
    extract_to_csv(hand_built, reference, extractor=ByteExtractor(), jobs=1)
    out = tmp_path / "features.csv"
    real, done = engine._extract_block, []

    def interrupted(task):
        if done:
            raise KeyboardInterrupt
        done.append(task[0])
        return real(task)

    with monkeypatch.context() as patched:
        patched.setattr(engine, "_extract_block", interrupted)
        with pytest.raises(KeyboardInterrupt):
            extract_to_csv(hand_built, out, extractor=ByteExtractor(), jobs=1)
    assert done == [0]  # the file with the Latin-1 name was journaled
    journal = out.with_name(out.name + ".journal").read_bytes().decode("utf-8")
    assert [json.loads(line)["i"] for line in journal.splitlines()[1:]] == [0]
    report = extract_to_csv(hand_built, out, extractor=ByteExtractor(), jobs=1)
    assert (report.n_resumed, report.n_extracted) == (1, 2)
    assert out.read_bytes() == reference.read_bytes()


def test_the_fingerprint_tells_a_non_utf8_name_from_its_printed_form(hand_built):
    latin = hand_built.tracks[0]
    printed = Track(path=printable(latin.path), track=printable(latin.track), label=latin.label)
    assert engine._fingerprint([latin], {}) != engine._fingerprint([printed], {})
    plain = hand_built.tracks[1]  # valid text hashes as before surrogates were allowed
    expected = hashlib.sha256(b"{}" + f"{plain.path}\0plain\0\0\n".encode())
    assert engine._fingerprint([plain], {}) == expected.hexdigest()


def test_skipped_non_utf8_paths_and_reasons_are_written_as_utf8(tmp_path):
    unreadable = non_utf8_file(tmp_path, b"\xff.wav", b"not audio")
    plain = tmp_path / "plain.bin"
    plain.write_bytes(b"\x01")

    class Failing(ByteExtractor):
        def extract_file(self, path) -> ClipFeatures:
            if path == unreadable:
                raise engine.AudioError(f"{path}: cannot decode audio (for {path})")
            return super().extract_file(path)

    rejected = [(os.fsdecode(b"/music/\xfe.mp3"), "left out by hand")]
    dataset = Dataset(
        tracks=[Track(path=unreadable, track="ff"), Track(path=str(plain), track="plain")],
        rejected=rejected,
        name="hand-built",
    )
    out = tmp_path / "features.csv"
    report = extract_to_csv(dataset, out, extractor=Failing(), jobs=1)
    shown = unreadable.replace("\udcff", "\\xff")
    expected = [("/music/\\xfe.mp3", "left out by hand"), (shown, f"cannot decode audio (for {shown})")]
    assert report.skipped == expected
    _, skipped_csv = side_paths(out)
    assert pd.read_csv(skipped_csv, encoding="utf-8").values.tolist() == [list(row) for row in expected]


# -- 3. one plural ----------------------------------------------------------------------------------
@pytest.mark.parametrize("n, word", [(0, "tracks"), (1, "track"), (2, "tracks"), (1.0, "track"), (4.0, "tracks")])
def test_plural(n, word):
    assert plural(n, "track", "tracks") == word


@pytest.fixture
def segmented_table(tmp_path):
    from feature_tables import write_gtzan_table

    from genre.features.table import load_feature_table

    return load_feature_table(write_gtzan_table(tmp_path / "f3.csv", tracks_per_class=6, segments=3))


@pytest.mark.parametrize("n, words", [(1, "1 track is listed"), (2, "2 tracks are listed")])
def test_overlapping_lists_say_how_many_tracks_in_number(tmp_path, segmented_table, n, words):
    from feature_tables import write_list

    from genre.errors import DataError
    from genre.evaluation import list_split

    both = ["blues/blues.00000.wav", "jazz/jazz.00000.wav"][:n]
    test = write_list(tmp_path / "test.txt", both)
    train = write_list(tmp_path / "train.txt", both + ["rock/rock.00001.wav"])
    with pytest.raises(DataError, match=f"test.txt: {words} for both training and testing"):
        list_split(segmented_table, train_lists=[train], test_list=test)


@pytest.mark.parametrize("n_lists, words", [(1, "the training list matches"), (2, "the training lists match")])
def test_single_class_training_lists_are_named_in_number(tmp_path, segmented_table, n_lists, words):
    from feature_tables import write_list

    from genre.errors import DataError
    from genre.evaluation import list_split
    from genre.evaluation.cv import check_split_classes

    test = write_list(tmp_path / "test.txt", ["jazz/jazz.00000.wav"])
    names = ["blues/blues.00001.wav", "blues/blues.00002.wav"]
    lists = [write_list(tmp_path / f"train{i}.txt", names[i::n_lists]) for i in range(n_lists)]
    split, _ = list_split(segmented_table, train_lists=lists, test_list=test)
    with pytest.raises(DataError, match=f"{words} 2 tracks of f3.csv, all of class 'blues'"):
        check_split_classes(segmented_table, [split], train_lists=lists, test_list=test)


def test_printable_never_fails_on_a_lone_surrogate():
    from genre.data.tracks import is_printable, printable

    assert printable("caf\udce9.wav") == "caf\\xe9.wav"  # a stray byte from the file system
    assert printable("a\ud800b") == "a\\xed\\xa0\\x80b"  # a code point no file system gave
    assert printable("café") == "café" and is_printable("café")
    assert not is_printable("a\ud800b")
    printable("mixed \udce9 \ud800").encode("utf-8")  # both kinds at once still encode

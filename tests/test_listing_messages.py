"""What a folder with no usable audio is refused with: every part of the message true."""

from __future__ import annotations

import pandas as pd
import pytest

from genre.data import load_folder
from genre.errors import DataError


def test_one_unusable_folder_is_named_without_a_trailing_ellipsis_and_ignored_files_are_counted(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "notes.txt").write_text("not audio")
    with pytest.raises(DataError) as refused:
        load_folder(tmp_path)
    message = str(refused.value)
    assert message.endswith(
        f"found but not usable: {tmp_path / 'x'} (label folder without audio files: no track of 'x'); "
        "ignored 1 non-audio file (.txt)"
    ), message


def test_several_unusable_entries_are_counted(tmp_path):
    for label in ("a", "b", "c"):
        (tmp_path / label).mkdir()
    with pytest.raises(DataError, match=r"no track of 'a'\) and 2 more$"):
        load_folder(tmp_path)


def test_a_start_that_is_not_a_number_is_named_by_row_and_track(tmp_path):
    """Read for models that take audio (the CNN): the row and track, not only 'start must hold numbers'."""
    from conftest import LOW_HIGH_PITCHES, tone_feature_table

    from genre.features.table import audio_segment_ids, load_feature_table

    table_path = tone_feature_table(tmp_path, LOW_HIGH_PITCHES, seconds=2.5)
    frame = pd.read_csv(table_path)
    frame["start"] = frame["start"].astype(object)
    frame.loc[3, "start"] = "n/a"
    frame.to_csv(table_path, index=False)
    with pytest.raises(DataError, match=r"column 'start' must hold each segment's start in seconds, but row 5 "
                       rf"\(track '{frame.loc[3, 'track']}'\) holds 'n/a'; extract the table again"):  # fmt: skip
        audio_segment_ids(load_feature_table(table_path), model="cnn")

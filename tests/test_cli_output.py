"""What the CLI prints around the library's results: version, unforeseen file errors, short paths."""

from __future__ import annotations

import errno
import os

import pytest
from typer.testing import CliRunner

import genre
from genre import cli

runner = CliRunner()


def test_version():
    result = runner.invoke(cli.app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"genre {genre.__version__}"


def test_an_unforeseen_file_error_is_one_line_naming_the_file(monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "x [y].csv"))

    import importlib

    # The module, not the function genre.evaluation exports under the same name.
    monkeypatch.setattr(importlib.import_module("genre.evaluation.benchmark"), "load_feature_table", refuse)
    result = runner.invoke(cli.app, ["benchmark", str(tmp_path / "t.csv"), "-o", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert f"error: {tmp_path / 'x [y].csv'}: Permission denied" in result.output
    assert "Traceback" not in result.output


def test_an_error_without_a_file_is_not_hidden():
    with pytest.raises(OSError, match="no file"):
        with cli.user_errors():
            raise OSError("no file")


@pytest.mark.parametrize(
    "paths, below, shown",
    [
        (["/music/a/x.wav", "/music/b/y.wav"], "/music", ["a/x.wav", "b/y.wav"]),
        (["/music/a/x.wav"], "/music/a", ["x.wav"]),
        (["x.wav", "y.wav"], None, ["x.wav", "y.wav"]),
        (["/x.wav", "/y.wav"], None, ["/x.wav", "/y.wav"]),
        (["/music/a/x.wav", "rel/y.wav"], None, ["/music/a/x.wav", "rel/y.wav"]),
        (["/m/a", "/m/a/b.wav"], "/m", ["a", os.path.join("a", "b.wav")]),
    ],
)
def test_prediction_paths_are_shown_below_their_common_folder(paths, below, shown):
    assert cli._shortened_paths(paths) == (below, shown)

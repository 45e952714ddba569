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
    monkeypatch.setattr(importlib.import_module("genre.benchmark"), "load_feature_table", refuse)
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


def test_a_model_from_an_external_table_asks_for_its_columns_not_its_settings(tmp_path):
    import pandas as pd

    from feature_tables import write_gtzan_table
    from genre.classifiers import train_model
    from genre.classifiers.prediction import predict_table
    from genre.errors import DataError

    table = write_gtzan_table(tmp_path / "t.csv", tracks_per_class=4)
    train_model(table, model="logreg", output=tmp_path / "m.genre")
    frame = pd.read_csv(table)
    frame.drop(columns=[frame.columns[2], frame.columns[3]]).to_csv(tmp_path / "less.csv", index=False)
    with pytest.raises(DataError, match="lacks 2 feature columns .*; give a table with the columns of the one"):
        predict_table(tmp_path / "m.genre", tmp_path / "less.csv")


def test_every_python_name_the_readme_gives_exists():
    import importlib
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    names = sorted(set(re.findall(r"`(genre(?:\.[A-Za-z_]\w*)+)", readme)))
    assert names, "the README names no Python entry points"
    for name in names:
        module, _, attribute = name.rpartition(".")
        try:
            found = getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError):
            found = importlib.import_module(name)  # a module named in full
        assert found is not None, name


def test_every_command_and_option_the_readme_gives_exists():
    import re
    from pathlib import Path

    import typer.main

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    group = typer.main.get_command(cli.app)
    options = {
        name: {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
        for name, command in group.commands.items()
    }
    blocks = re.findall(r"^```(?:bash)?\n(.*?)^```", readme, flags=re.MULTILINE | re.DOTALL)
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"^```.*?^```", "", readme, flags=re.MULTILINE | re.DOTALL))
    code = "\n".join(blocks + spans)
    used = re.findall(r"(?:^|&&\s*)genre ([\w-]+)([^\n&|#]*)", code, flags=re.MULTILINE)
    assert len(used) > 10, "the README's commands were not found"
    for command, rest in used:
        assert command in options, f"README: genre {command}: no such command"
        for option in re.findall(r"(?<!\S)(--[a-z][a-z-]*)", rest):
            assert option in options[command], f"README: genre {command} {option}: no such option"


def test_progress_writes_plain_lines_where_stderr_is_not_a_terminal(capsys):
    from genre.progress import progress_bar

    with progress_bar(log_every=0) as bar:  # pytest's captured stderr is no terminal
        task = bar.add_task("extracting (2 local processes)", total=3)
        for _ in range(3):
            bar.advance(task)
    lines = capsys.readouterr().err.splitlines()
    for done, line in enumerate(lines[:3], start=1):
        assert line.startswith(f"extracting (2 local processes): {done}/3, 0:00:00, ETA "), line
    with progress_bar(enabled=False) as bar:
        bar.advance(bar.add_task("silent", total=1))
    assert capsys.readouterr().err == ""

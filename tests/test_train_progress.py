"""`genre train` says that a fit runs, and shows the steps a model reports (epochs, log-mel patches)."""

from __future__ import annotations

from feature_tables import write_own_table
from typer.testing import CliRunner

from genre.cli import app
from genre.progress import report, reporting

runner = CliRunner()


def test_report_is_a_no_op_outside_reporting(capsys):
    report("epochs", done=1, total=3)
    with reporting(enabled=False, title="fitting x"):
        report("epochs", done=1, total=3)
    assert capsys.readouterr().err == ""


def test_reported_steps_are_shown_with_their_counts(capsys):
    with reporting(title="fitting x"):
        for done in (1, 2, 3):
            report("epochs (at most 5)", done=done, total=5 if done < 3 else 3)  # stopped early at 3
    err = capsys.readouterr().err
    assert "fitting x" in err and "1/1" in err
    assert "epochs (at most 5)" in err and "3/3" in err


def test_genre_train_shows_the_fit_and_the_epochs(tmp_path):
    table = write_own_table(tmp_path / "t.csv", tracks_per_class=4, segments=2)
    result = runner.invoke(app, ["train", str(table), "-m", "dense", "-p", "max_epochs=4", "-o", str(tmp_path / "m.genre")])
    assert result.exit_code == 0, result.output
    assert "fitting dense" in result.output and "epochs (at most 4)" in result.output

"""A resumed benchmark takes the networks its interrupted sitting trained, kept in the checkpoint folder."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
import pytest
from fit_interruptions import count_fits

import genre.classifiers.cnn as cnn
from genre.benchmark import CHECKPOINT_FOLDER, benchmark
from genre.errors import OutputError
from genre.evaluation import cross_validate_models
from genre.evaluation.checkpoint import NETWORKS
from genre.features.table import load_feature_table

MODELS = ["cnn", "cnn-svm"]
FOLDS = 2


@pytest.fixture
def table_path(tmp_path):
    from test_cnn import write_clips

    clips = write_clips(tmp_path / "audio", per_class=4)
    path = tmp_path / "features.csv"
    frame = clips.assign(segment=clips.groupby("track").cumcount(), group="", f1=np.arange(len(clips)) % 3)
    frame[["path", "track", "segment", "start", "label", "group", "f1"]].to_csv(path, index=False)
    return path


@pytest.fixture
def params():
    from test_cnn import TINY

    return {name: TINY for name in MODELS}


@pytest.fixture
def trained(monkeypatch):
    """The networks trained (not taken from memory or disk); a new process's empty cache before and after."""
    count: list[int] = []
    train = cnn._MelCNNBase._train_new
    monkeypatch.setattr(cnn._MelCNNBase, "_train_new", lambda self, *a, **k: count.append(1) or train(self, *a, **k))
    cnn._FITTED.clear()
    yield count
    cnn._FITTED.clear()


@pytest.fixture
def fits(monkeypatch):
    """The fits run, with their outputs; ``fits.stop_at = model`` interrupts (Ctrl-C) that model's first fit."""
    return count_fits(monkeypatch)


def interrupted(table_path, out, params, fits, trained):
    """A benchmark stopped at cnn-svm's first fit, once every cnn fold was kept; then a 'new process'."""
    fits.stop_at = "cnn-svm"
    with pytest.raises(KeyboardInterrupt):
        benchmark(table_path, output_dir=out, models=MODELS, folds=FOLDS, model_params=params)
    assert len(trained) == FOLDS and fits.calls == [("cnn", i) for i in range(FOLDS)]
    cnn._FITTED.clear()  # the networks in memory died with the interrupted process
    trained.clear()
    fits.calls, fits.outputs = [], []
    return out / CHECKPOINT_FOLDER / NETWORKS


def test_a_resumed_benchmark_takes_the_networks_of_its_kept_cnn_folds(tmp_path, table_path, params, fits, trained):
    reference, _ = benchmark(table_path, output_dir=tmp_path / "reference", models=MODELS, folds=FOLDS,
                             model_params=params)  # fmt: skip
    assert len(trained) == FOLDS  # cnn-svm shares cnn's networks within one run
    cnn._FITTED.clear()
    trained.clear()
    fits.calls, fits.outputs = [], []

    out = tmp_path / "report"
    networks = interrupted(table_path, out, params, fits, trained)
    kept = sorted(p.name for p in networks.iterdir())
    assert len(kept) == 3 * FOLDS and {p.rsplit(".", 1)[1] for p in kept} == {"keras", "json", "npz"}

    # Folds run in parallel where a model allows it: the CNN's run here, where the networks are visible.
    results, files = benchmark(table_path, output_dir=out, models=MODELS, folds=FOLDS, model_params=params, jobs=2)
    assert trained == []  # the old code trained one network per fold again
    assert fits.calls == [("cnn-svm", i) for i in range(FOLDS)]
    assert all(output.warnings == () for output in fits.outputs)
    assert results.protocol["resumed_fits"] == FOLDS and files.json.exists()
    for resumed, fresh in zip(results.models, reference.models):
        assert [f.predictions for f in resumed.folds] == [f.predictions for f in fresh.folds], resumed.name
    # A finished benchmark removes the kept fits and the networks with them.
    assert not (out / CHECKPOINT_FOLDER).exists()


def test_a_damaged_stored_network_is_trained_again_with_a_warning(tmp_path, table_path, params, fits, trained):
    out = tmp_path / "report"
    networks = interrupted(table_path, out, params, fits, trained)
    sets = sorted(networks.glob("*.npz"))
    assert len(sets) == FOLDS
    # Set 0: its network cut short (its digest no longer matches). Set 1: a network file that is
    # no .keras archive, with digests that match it (as a foreign writer could leave it).
    keras0 = sets[0].with_suffix(".keras")
    keras0.write_bytes(keras0.read_bytes()[:200])
    junk = b"not a keras archive"
    sets[1].with_suffix(".keras").write_bytes(junk)
    with np.load(sets[1], allow_pickle=False) as index:
        arrays = {name: index[name] for name in index.files}
    arrays["network_sha256"] = np.array(hashlib.sha256(junk).hexdigest())
    np.savez(sets[1], **arrays)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results, files = benchmark(table_path, output_dir=out, models=MODELS, folds=FOLDS, model_params=params)
    said = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(said) == FOLDS and all("stored network cannot be used" in line for line in said), said
    assert any("do not match" in line for line in said)
    assert len(trained) == FOLDS  # trained again, not a crash
    assert [m.name for m in results.models] == MODELS and files.json.exists()
    # Said as the benchmark's, not recorded as a warning of the cnn-svm fits.
    assert all(output.warnings == () for output in fits.outputs)
    assert not (out / CHECKPOINT_FOLDER).exists()


def test_networks_that_cannot_be_written_are_said_once_and_the_benchmark_goes_on(
    tmp_path, table_path, params, monkeypatch, trained
):
    import contextlib

    import genre.atomic

    real = genre.atomic.atomic_files

    @contextlib.contextmanager
    def full_disk():  # the networks' folder is on a full disk (not the mel patch cache's)
        with real() as open_file:

            def opening(path, *args, **kwargs):
                if NETWORKS in Path(path).parts:
                    raise OutputError(f"{path}: cannot write (No space left on device); nothing was replaced")
                return open_file(path, *args, **kwargs)

            yield opening

    monkeypatch.setattr(genre.atomic, "atomic_files", full_disk)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = cross_validate_models(
            load_feature_table(table_path), MODELS, folds=FOLDS, progress=False, checkpoint_dir=tmp_path / "keep",
            model_params=params,
        )  # fmt: skip
    said = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len([line for line in said if "networks are no longer kept" in line]) == 1, said
    assert len(results.models) == 2 and len(trained) == FOLDS


def test_plain_fits_write_no_files(tmp_path, params, monkeypatch, trained):
    from sklearn.base import clone
    from test_cnn import write_clips

    from genre.classifiers.registry import make_model

    clips = write_clips(tmp_path / "audio", per_class=4)
    X, y = clips[["path", "start", "track"]], clips["label"].to_numpy()
    monkeypatch.chdir(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    assert cnn._NETWORK_FILES.get() is None
    for name in MODELS:
        clone(make_model(name, random_state=0, **params[name])).fit(X, y)
    assert sorted(tmp_path.rglob("*")) == before  # as before: nothing written anywhere
    assert len(trained) == 1  # and the in-memory cache as before: cnn-svm took cnn's network

    # Inside keep_networks (as a benchmark sets it) a network in memory is written too, and a
    # new process's empty cache reads it back instead of training.
    folder = tmp_path / "networks"
    with cnn.keep_networks(folder):
        clone(make_model("cnn", random_state=0, **params["cnn"])).fit(X, y)
    assert len(trained) == 1 and len(list(folder.glob("*.npz"))) == 1
    cnn._FITTED.clear()
    with cnn.keep_networks(folder):
        fitted = clone(make_model("cnn-svm", random_state=0, **params["cnn-svm"])).fit(X, y)
    assert len(trained) == 1 and fitted.predict_proba(X).shape == (len(X), 2)
    assert sorted(p.suffix for p in folder.iterdir()) == [".json", ".keras", ".npz"]
    assert cnn._NETWORK_FILES.get() is None

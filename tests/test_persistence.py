"""Model files: round trips give identical predictions; unsafe or broken files are refused."""

from __future__ import annotations

import io
import json
import pickle
import pickletools
import zipfile

import numpy as np
import pytest

from genre.classifiers.persistence import FORMAT, FORMAT_VERSION, load_model, save_model
from genre.classifiers.registry import available_models, get_spec, make_model
from genre.errors import ModelFileError

LABELS = np.array(["blues", "jazz", "metal"])
# Every model whose X is a numeric matrix (feature tables and embedding tables alike).
FEATURE_MODELS = [name for name in available_models() if get_spec(name).input != "audio"]
FAST = {
    "dense": {"model__max_epochs": 10, "model__hidden_units": (16,)},
    "random-forest": {"model__n_estimators": 10},
    "xgboost": {"model__n_estimators": 10},
    "ensemble": {"dense__model__max_epochs": 5, "xgboost__model__n_estimators": 10},
}
COLUMNS = ["f0", "f1", "f2", "f3"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    y = LABELS[np.repeat(np.arange(3), 20)]
    X = rng.normal(size=(60, 4))
    X[:, 0] += 2.5 * (y == "jazz")
    X[:, 1] += 2.5 * (y == "metal")
    return X, y


def _save(path, estimator, **overrides):
    options = dict(
        model_name="svm",
        feature_columns=COLUMNS,
        labels=[str(c) for c in estimator.classes_],
        feature_config={"sr": 22050},
        extra={"note": "test"},
    )
    options.update(overrides)
    return save_model(path, estimator, **options)


def _contains_pickle(data: bytes) -> bool:
    """Whether ``data`` parses as a pickle stream (protocol 2+ starts with PROTO)."""
    if not data.startswith(b"\x80"):
        return False
    try:
        for _ in pickletools.genops(io.BytesIO(data)):
            pass
    except Exception:
        return False
    return True


@pytest.mark.parametrize("name", FEATURE_MODELS)
def test_round_trip_gives_identical_predictions(name, data, tmp_path):
    X, y = data
    model = make_model(name).set_params(**FAST.get(name, {})).fit(X, y)
    path = _save(tmp_path / f"{name}.genre", model, model_name=name)

    loaded = load_model(path)
    assert loaded.model_name == name
    assert loaded.feature_columns == COLUMNS
    assert loaded.labels == list(LABELS)
    assert loaded.feature_config == {"sr": 22050}
    assert loaded.meta["extra"] == {"note": "test"}
    assert loaded.meta["format_version"] == FORMAT_VERSION
    np.testing.assert_array_equal(loaded.estimator.predict(X), model.predict(X))
    np.testing.assert_allclose(loaded.estimator.predict_proba(X), model.predict_proba(X), rtol=1e-6, atol=1e-7)

    # The original estimator is intact after saving (parts are detached only while writing).
    np.testing.assert_array_equal(model.predict(X), loaded.estimator.predict(X))
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            assert not _contains_pickle(archive.read(member)), member


def test_component_members_use_their_own_formats(data, tmp_path):
    X, y = data
    model = make_model("ensemble").set_params(**FAST["ensemble"]).fit(X, y)
    path = _save(tmp_path / "ensemble.genre", model, model_name="ensemble")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        meta = json.loads(archive.read("meta.json"))
    assert {"meta.json", "estimator.skops"} <= set(names)
    assert sorted(n.rsplit(".", 1)[1] for n in names if n.startswith("components/")) == ["keras", "ubj"]
    assert meta["format"] == FORMAT and meta["components"] == [n for n in names if n.startswith("components/")]


def test_saving_is_atomic_and_leaves_no_temporary_files(data, tmp_path):
    X, y = data
    model = make_model("logreg").fit(X, y)
    _save(tmp_path / "m.genre", model)
    _save(tmp_path / "m.genre", model)  # overwrite in place
    assert [p.name for p in tmp_path.iterdir()] == ["m.genre"]


# -- refused files --------------------------------------------------------------------------
def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "absent.genre")


def test_not_a_zip(tmp_path):
    path = tmp_path / "model.genre"
    path.write_bytes(b"definitely not a zip archive")
    with pytest.raises(ModelFileError, match=r"model\.genre.*not a zip"):
        load_model(path)


def test_pickle_file_is_refused(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"estimator": "anything"}))
    with pytest.raises(ModelFileError, match="not a zip"):
        load_model(path)


def test_random_zip_is_refused(tmp_path):
    path = tmp_path / "model.genre"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ModelFileError, match="no meta.json"):
        load_model(path)


def _rewrite(path, **members):
    """Copy the archive at ``path`` replacing some members (bytes or JSON-able dict)."""
    with zipfile.ZipFile(path) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    for name, value in members.items():
        contents[name.replace("__", ".")] = value if isinstance(value, bytes) else json.dumps(value).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)


@pytest.fixture
def saved(data, tmp_path):
    X, y = data
    path = _save(tmp_path / "model.genre", make_model("logreg").fit(X, y))
    with zipfile.ZipFile(path) as archive:
        meta = json.loads(archive.read("meta.json"))
    return path, meta


def test_newer_format_is_refused(saved):
    path, meta = saved
    _rewrite(path, meta__json={**meta, "format_version": FORMAT_VERSION + 1})
    with pytest.raises(ModelFileError, match="newer genre"):
        load_model(path)


def test_foreign_meta_is_refused(saved):
    path, meta = saved
    _rewrite(path, meta__json={**meta, "format": "something-else"})
    with pytest.raises(ModelFileError, match="not a genre model file"):
        load_model(path)


@pytest.mark.parametrize("key", ["labels", "feature_columns", "components"])
def test_meta_field_of_the_wrong_type_is_refused(saved, key):
    path, meta = saved
    _rewrite(path, meta__json={**meta, key: 5})
    with pytest.raises(ModelFileError, match=f"corrupt model file .*{key}' is not a list"):
        load_model(path)


def test_corrupt_estimator_member_is_refused(saved):
    path, _ = saved
    _rewrite(path, estimator__skops=b"garbage" * 10)
    with pytest.raises(ModelFileError, match="corrupt"):
        load_model(path)


def test_pickled_estimator_member_is_refused(saved):
    path, _ = saved
    from sklearn.linear_model import LogisticRegression

    _rewrite(path, estimator__skops=pickle.dumps(LogisticRegression()))
    with pytest.raises(ModelFileError, match="corrupt"):
        load_model(path)


def test_truncated_file_is_refused(saved):
    path, _ = saved
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError):
        load_model(path)


class Untrusted:  # a plain class no allow-list contains
    def __init__(self):
        self.payload = [1, 2, 3]


def test_untrusted_type_is_refused_before_anything_is_built(saved):
    import skops.io

    path, _ = saved
    _rewrite(path, estimator__skops=skops.io.dumps(Untrusted()))
    with pytest.raises(ModelFileError, match=r"does not trust: .*Untrusted"):
        load_model(path)


def _function_pipeline(data):
    """A fitted pipeline whose first step names a function: a type no allow-list contains."""
    import operator

    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, y = data
    return make_pipeline(FunctionTransformer(operator.pos), LogisticRegression()).fit(X, y)


def test_function_reference_is_refused(data, saved):
    import skops.io

    # A pipeline step may name any function; only an explicit allow-list may be loaded.
    path, _ = saved
    _rewrite(path, estimator__skops=skops.io.dumps(_function_pipeline(data)))
    with pytest.raises(ModelFileError, match="does not trust: .*pos"):
        load_model(path)


def test_untrusted_type_is_refused_at_save_time(data, tmp_path):
    # save_model checks the loader's allow-list: no file is written that load_model would refuse.
    path = tmp_path / "function.genre"
    with pytest.raises(ModelFileError, match=r"function\.genre: not saved.*does not trust: _?operator\.pos$"):
        _save(path, _function_pipeline(data))
    assert list(tmp_path.iterdir()) == []


def manhattan_by_hand(a, b):
    return np.abs(a - b).sum()


@pytest.mark.parametrize(
    "params",
    [
        {"metric": "manhattan"},
        {"metric": "chebyshev"},
        {"p": 1},
        {"p": 3, "algorithm": "ball_tree"},
        {"metric": "manhattan", "algorithm": "ball_tree"},
    ],
    ids=lambda params: "-".join(f"{k}={v}" for k, v in params.items()),
)
def test_knn_with_any_builtin_metric_round_trips(params, data, tmp_path):
    import skops.io

    # A tree search keeps its DistanceMetric (ManhattanDistance64 ...) in the model graph.
    X, y = data
    model = make_model("knn", **params).fit(X, y)
    path = _save(tmp_path / "knn.genre", model, model_name="knn")
    with zipfile.ZipFile(path) as archive:
        named = skops.io.get_untrusted_types(data=archive.read("estimator.skops"))
    assert any(name.startswith("sklearn.metrics._dist_metrics.") for name in named), named  # a tree search
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.estimator.predict_proba(X), model.predict_proba(X))


def test_every_builtin_distance_metric_is_trusted_but_not_python_functions():
    from genre.classifiers.persistence import _distance_metric_types

    trusted = _distance_metric_types()
    for bits in ("64", "32"):
        for metric in ("Euclidean", "Manhattan", "Chebyshev", "Minkowski", "Mahalanobis", "Haversine"):
            assert f"sklearn.metrics._dist_metrics.{metric}Distance{bits}" in trusted
    assert not [name for name in trusted if "PyFunc" in name]


def test_knn_with_a_python_metric_is_refused_at_save_time(data, tmp_path):
    X, y = data
    model = make_model("knn", metric=manhattan_by_hand, algorithm="ball_tree").fit(X, y)
    with pytest.raises(ModelFileError, match="not saved.*does not trust: .*PyFuncDistance64, .*manhattan_by_hand"):
        _save(tmp_path / "knn.genre", model, model_name="knn")
    assert list(tmp_path.iterdir()) == []


def test_os_function_is_refused(saved):
    import os

    import skops.io

    path, _ = saved
    _rewrite(path, estimator__skops=skops.io.dumps({"hook": os.system}))
    with pytest.raises(ModelFileError, match="does not trust: .*system"):
        load_model(path)


def test_missing_component_is_refused(data, tmp_path):
    X, y = data
    model = make_model("xgboost").set_params(**FAST["xgboost"]).fit(X, y)
    path = _save(tmp_path / "x.genre", model, model_name="xgboost")
    with zipfile.ZipFile(path) as archive:
        contents = {n: archive.read(n) for n in archive.namelist() if not n.startswith("components/")}
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in contents.items():
            archive.writestr(name, value)
    with pytest.raises(ModelFileError, match="missing member"):
        load_model(path)


def test_corrupt_component_is_refused(data, tmp_path):
    X, y = data
    model = make_model("xgboost").set_params(**FAST["xgboost"]).fit(X, y)
    path = _save(tmp_path / "x.genre", model, model_name="xgboost")
    _rewrite(path, **{"components/0__ubj": b"\x00\x01 not a booster"})
    with pytest.raises(ModelFileError, match="cannot read components/0.ubj"):
        load_model(path)


def test_unwritable_destination_is_an_output_error(data, tmp_path):
    from genre.errors import OutputError

    X, y = data
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    with pytest.raises(OutputError, match="cannot write"):
        _save(blocker / "model.genre", make_model("logreg").fit(X, y))


# -- damaged files ----------------------------------------------------------------------------
def test_every_flipped_byte_is_a_model_file_error(saved, tmp_path):
    # Header, deflate stream, CRC, central directory: wherever the damage, one ModelFileError
    # naming the file, never a zlib, zipfile or OS error.
    path, _ = saved
    good = path.read_bytes()
    damaged = tmp_path / "damaged.genre"
    refused = 0
    for offset in range(0, len(good), 3):
        data = bytearray(good)
        data[offset] ^= 0xFF
        damaged.write_bytes(bytes(data))
        try:
            load_model(damaged)
        except ModelFileError as exc:
            assert str(exc).startswith(f"{damaged}: "), exc
            refused += 1
    assert refused > len(good) // 3 // 2  # most flips are noticed (timestamps and the like are not)


def test_cli_reports_a_damaged_model_in_one_line(saved, data, tmp_path):
    import pandas as pd
    from typer.testing import CliRunner

    from genre.cli import app

    path, _ = saved
    damaged = bytearray(path.read_bytes())
    damaged[100] ^= 0xFF  # inside meta.json's deflate stream
    path.write_bytes(bytes(damaged))
    table = tmp_path / "table.csv"
    pd.DataFrame(data[0], columns=COLUMNS).assign(path=[f"t{i}" for i in range(len(data[0]))]).to_csv(table)
    result = CliRunner().invoke(app, ["predict", str(path), str(table)], catch_exceptions=False)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: corrupt model file ("), result.output


def test_unreadable_file_says_so(saved, monkeypatch):
    import errno

    from genre.classifiers import persistence

    path, _ = saved

    def denied(file, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(file))

    # Tests run as root on some machines, where chmod cannot take the permission away.
    monkeypatch.setattr(persistence, "open", denied, raising=False)
    with pytest.raises(ModelFileError, match=r"model\.genre: cannot read the model file \(Permission denied\)"):
        load_model(path)

"""cnn and cnn-svm in one benchmark share each split's network however many splits there are."""

import numpy as np

from genre.evaluation.cv import cross_validate_models
from genre.features.table import load_feature_table


def test_ten_folds_of_cnn_then_cnn_svm_train_ten_networks(tmp_path, monkeypatch):
    # The benchmark fits cnn on every split before cnn-svm reads the networks back: a cache
    # that kept only the last 8 had dropped fold 0's network by then and trained all 20.
    from test_cnn import TINY, write_clips

    import genre.classifiers.cnn as cnn

    clips = write_clips(tmp_path / "audio", per_class=10)
    table_path = tmp_path / "features.csv"
    frame = clips.assign(segment=clips.groupby("track").cumcount(), group="", f1=np.arange(len(clips)) % 3)
    frame[["path", "track", "segment", "start", "label", "group", "f1"]].to_csv(table_path, index=False)
    trained = []
    train = cnn._MelCNNBase._train_new
    monkeypatch.setattr(cnn._MelCNNBase, "_train_new", lambda self, *a, **k: trained.append(1) or train(self, *a, **k))
    cnn._FITTED.clear()
    try:
        result = cross_validate_models(
            load_feature_table(table_path), ["cnn", "cnn-svm"], folds=10, progress=False,
            model_params={"cnn": TINY, "cnn-svm": TINY},
        )  # fmt: skip
    finally:
        cnn._FITTED.clear()
    assert len(trained) == 10
    assert [model.name for model in result.models] == ["cnn", "cnn-svm"]

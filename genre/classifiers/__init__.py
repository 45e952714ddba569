"""Models as scikit-learn estimators, the registry that names them, and safe model files.

Importing this package is cheap: TensorFlow and XGBoost load only when a model that
needs them is fitted or read.
"""

from genre.classifiers.persistence import LoadedModel, load_model, save_model
from genre.classifiers.prediction import predict, predict_files, predict_table, write_predictions
from genre.classifiers.registry import ModelSpec, available_models, get_spec, make_model, register
from genre.classifiers.training import TrainResult, train_model

__all__ = [
    "train_model",
    "TrainResult",
    "predict",
    "predict_files",
    "predict_table",
    "write_predictions",
    "LoadedModel",
    "ModelSpec",
    "available_models",
    "get_spec",
    "load_model",
    "make_model",
    "register",
    "save_model",
]

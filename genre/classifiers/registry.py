"""The model registry: a model plugs in by registering one :class:`ModelSpec` subclass.

Each spec names a model, describes it, and builds an *unfitted* scikit-learn
estimator (usually a :class:`~sklearn.pipeline.Pipeline` that does its own
scaling). Commands and the benchmark look models up by name here, so adding a
model never means editing an ``if``/``elif`` chain elsewhere::

    from genre.classifiers.registry import ModelSpec, register

    @register
    class MyModel(ModelSpec):
        name = "my-model"
        description = "what it is, in one line"
        parallel_folds = True

        def build(self, *, random_state=0, n_jobs=1, **params):
            from sklearn.linear_model import RidgeClassifier  # heavy imports go here
            return RidgeClassifier(**params)

Importing this module is cheap: the built-in model modules are imported on the
first lookup, and they import TensorFlow or XGBoost only inside ``fit``.
"""

from __future__ import annotations

import importlib
import math
import numbers
from collections.abc import Iterable
from typing import Any, ClassVar

from genre.errors import ParameterError

__all__ = [
    "ModelSpec",
    "register",
    "make_model",
    "available_models",
    "get_spec",
    "check_seed",
    "check_number",
    "as_values",
    "MAX_SEED",
]

#: Modules whose import registers the built-in models (each must import cheaply).
_BUILTIN_MODULES: tuple[str, ...] = (
    "genre.classifiers.linear",
    "genre.classifiers.neighbors",
    "genre.classifiers.svm",
    "genre.classifiers.trees",
    "genre.classifiers.boosting",
    "genre.classifiers.dense",
    "genre.classifiers.ensemble",
    "genre.classifiers.cnn",
    "genre.classifiers.musicnn_models",
)

_REGISTRY: dict[str, type["ModelSpec"]] = {}
_builtins_loaded = False


class ModelSpec:
    """Description of one registered model and how to build it.

    Attributes
    ----------
    name : str
        Registry name used on the command line (``--model NAME``).
    description : str
        One line shown in listings and reports.
    parallel_folds : bool
        Whether cross-validation may fit several folds of this model in parallel
        processes, each model then given one thread (folds are independent; small
        models gain little from threads). ``False`` for models whose fit in one
        process already needs much of the machine (the CNN: its log-mel patches and
        network), where processes would multiply the memory.
    input : str
        What the model's ``X`` is: ``"features"`` (numeric columns of any feature
        table, the default), or a specific kind such as ``"audio"`` (segment ids
        whose audio the model reads itself) or ``"musicnn"`` (embedding tables).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    parallel_folds: ClassVar[bool] = True
    input: ClassVar[str] = "features"

    def build(self, *, random_state: int = 0, n_jobs: int = 1, **params: Any):
        """Return a new, unfitted scikit-learn estimator.

        Parameters
        ----------
        random_state : int
            Seed for every random choice of the model, so results are repeatable.
        n_jobs : int
            Threads or processes the model may use while fitting.
        **params
            Model-specific keyword parameters overriding the defaults.

        Returns
        -------
        estimator : sklearn.base.BaseEstimator
            An unfitted estimator or pipeline that scales its own inputs.
        """
        raise NotImplementedError

    def parameters(self) -> list[str]:
        """Names :meth:`build` takes besides ``random_state`` and ``n_jobs``, for messages and help.

        The constructor parameters of :meth:`configured_step`; a spec whose ``build`` takes
        other keywords overrides this.
        """
        return sorted(set(self.configured_step(self.build()).get_params(deep=False)) - {"random_state", "n_jobs"})

    def defaults(self) -> dict[str, Any]:
        """Each of :meth:`parameters` with its default value, where the built model has one.

        A parameter the model resolves only when fitted (the ensemble's members' own
        parameters, ``<member>__<parameter>``) is left out.
        """
        values = self.configured_step(self.build()).get_params(deep=True)
        return {name: values[name] for name in self.parameters() if name in values}

    def configured_step(self, estimator: Any) -> Any:
        """The part of a built estimator that ``build``'s keywords configure: by default its last step."""
        return estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator

    def __repr__(self) -> str:
        return f"<model {self.name!r}: {self.description}>"


def register(cls: type[ModelSpec]) -> type[ModelSpec]:
    """Class decorator adding a :class:`ModelSpec` subclass to the registry.

    Parameters
    ----------
    cls : type
        A subclass of :class:`ModelSpec` with a non-empty ``name``.

    Returns
    -------
    cls : type
        The class, unchanged, so the decorator can be stacked.

    Raises
    ------
    TypeError
        If ``cls`` is not a ModelSpec subclass, has no name, or its name is
        already taken by a different class (a programming error, not a user one).
    """
    if not (isinstance(cls, type) and issubclass(cls, ModelSpec)):
        raise TypeError(f"register() expects a ModelSpec subclass, got {cls!r}")
    name = getattr(cls, "name", "")
    if not name or not isinstance(name, str):
        raise TypeError(f"{cls.__name__} needs a non-empty string attribute 'name'")
    existing = _REGISTRY.get(name)
    # Re-registering the same class (e.g. a module reloaded in a notebook) is harmless.
    if existing is not None and existing.__qualname__ != cls.__qualname__:
        raise TypeError(f"model name {name!r} is already registered by {existing.__qualname__}")
    _REGISTRY[name] = cls
    return cls


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    # Set first: a built-in module calling available_models() at import must not recurse.
    _builtins_loaded = True
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)


def available_models() -> list[str]:
    """Names of all registered models, sorted.

    Returns
    -------
    names : list of str
    """
    _load_builtins()
    return sorted(_REGISTRY)


def get_spec(name: str) -> ModelSpec:
    """Return the spec registered under ``name``.

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"dense"`` or ``"svm"``.

    Returns
    -------
    spec : ModelSpec

    Raises
    ------
    genre.errors.ParameterError
        If no model is registered under ``name``; the message lists the names.
    """
    _load_builtins()
    try:
        cls = _REGISTRY[name]
    except (KeyError, TypeError):
        raise ParameterError(
            f"unknown model {name!r}; available models: {', '.join(sorted(_REGISTRY))}"
        ) from None
    return cls()


#: numpy's legacy seeding (scikit-learn, XGBoost, Keras) takes 0 <= seed < 2**32.
MAX_SEED = 2**32 - 1


def check_seed(seed: Any, *, n_derived: int = 1) -> int:
    """Return ``seed`` if it, and the ``n_derived - 1`` seeds after it, are valid seeds.

    Parameters
    ----------
    seed : int
        A seed given by the user (``--seed``).
    n_derived : int
        Seeds ``seed, seed + 1, ...`` that will be used (one per cross-validation repeat).

    Returns
    -------
    int

    Raises
    ------
    genre.errors.ParameterError
        Not an integer, negative, or its last derived seed beyond :data:`MAX_SEED`.
    """
    import numbers

    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ParameterError(f"--seed {seed!r}: must be a whole number")
    top = MAX_SEED - (n_derived - 1)
    if not 0 <= seed <= top:
        also = f" ({n_derived} repeats use seed to seed + {n_derived - 1})" if n_derived > 1 else ""
        raise ParameterError(f"--seed {seed}: must lie between 0 and {top}{also}")
    return int(seed)


def as_values(value: Any, *, name: str, owner: str) -> list:
    """The values of a list parameter; a single value (a str too) is a list of one.

    ``--param C_grid=10`` and ``--param kernels=linear`` give one value where the model
    takes a list: that is the list of that value, never the letters of a word.

    Parameters
    ----------
    value : object
        The parameter's value: a sequence, a 0-d array or a single value.
    name : str
        The parameter as the user sets it (``--param NAME=VALUE``).
    owner : str
        The model, first word of the message (``"SVM"``).

    Returns
    -------
    values : list

    Raises
    ------
    genre.errors.ParameterError
        The list is empty.
    """
    if getattr(value, "ndim", None) == 0:  # a 0-d numpy array
        return [value.item()]
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return [value]
    values = list(value)
    if not values:
        raise ParameterError(f"{owner}: {name} is empty; give at least one value")
    return values


def check_number(
    value: Any,
    *,
    name: str,
    owner: str,
    integer: bool = False,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Refuse a numeric model parameter that is not a number in its interval.

    For estimators' ``fit`` methods, which validate their parameters there (the
    scikit-learn convention), so that ``--param n_estimators=0`` is refused in words
    instead of training a useless model.

    Parameters
    ----------
    value : object
        The parameter's value. A bool is never a number (``n_estimators=True`` is a
        slip, not 1), nor is NaN or an infinity.
    name : str
        The parameter as the user sets it (``--param NAME=VALUE``).
    owner : str
        The model refusing it, first word of the message (``"SVM"``, ``"XGBoost"``).
    integer : bool
        Accept whole numbers only (Python or numpy integers; ``3.0`` is refused).
    low, high : float
        Bounds of the accepted interval.
    low_open, high_open : bool
        Whether ``low`` / ``high`` themselves are refused.

    Raises
    ------
    genre.errors.ParameterError
        ``value`` is not such a number; the message names ``owner``, ``name`` and the interval.
    """
    kind = numbers.Integral if integer else numbers.Real
    ok = isinstance(value, kind) and not isinstance(value, bool)
    # Integers are finite (and math.isfinite overflows on huge ones); comparisons with NaN are false.
    ok = ok and (isinstance(value, numbers.Integral) or math.isfinite(value))
    ok = ok and (low < value if low_open else low <= value) and (value < high if high_open else value <= high)
    if ok:
        return
    what = "an integer" if integer else "a number"
    if math.isinf(low) and math.isinf(high):
        bounds = ""
    elif math.isinf(high):
        bounds = f" {'>' if low_open else '>='} {low:g}"
    elif math.isinf(low):
        bounds = f" {'<' if high_open else '<='} {high:g}"
    else:
        bounds = f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    raise ParameterError(f"{owner}: {name} must be {what}{bounds}, got {value!r}")


def make_model(name: str, *, random_state: int = 0, n_jobs: int = 1, **params: Any):
    """Build an unfitted estimator for the model registered under ``name``.

    Parameters
    ----------
    name : str
        Registry name.
    random_state : int
        Seed passed to the model.
    n_jobs : int
        Threads or processes the model may use.
    **params
        Model-specific parameters overriding the defaults.

    Returns
    -------
    estimator : sklearn.base.BaseEstimator

    Raises
    ------
    genre.errors.ParameterError
        If the name is unknown, the seed invalid (:func:`check_seed`) or a parameter is
        not accepted by the model.
    """
    spec = get_spec(name)
    random_state = check_seed(random_state)
    try:
        return spec.build(random_state=random_state, n_jobs=n_jobs, **params)
    except TypeError as exc:
        # An unexpected keyword is the user's option, not our bug: say which model refused it.
        raise ParameterError(
            f"model {name!r} does not accept these parameters {_refused_parameters(spec, params)} ({exc}); "
            f"it takes: {', '.join(spec.parameters())}"
        ) from None


def _refused_parameters(spec: ModelSpec, params: dict[str, Any]) -> list[str]:
    """The names among ``params`` that ``spec.build`` refuses (a ``TypeError``), sorted.

    Each name is tried on top of those accepted before it, plain names first, so a member's
    parameter (``svm__C_grid``) is judged with the ``members`` given; a name whose value alone
    is refused is taken by name. Without this, every parameter given would be listed as refused,
    the valid ones too (``-p C_grid=10 -p C=3`` named ``C_grid``).
    """
    accepted: dict[str, Any] = {}
    refused = []
    for key in sorted(params, key=lambda key: ("__" in key, key)):
        try:
            spec.build(**accepted, **{key: params[key]})
        except TypeError:
            refused.append(key)
            continue
        except Exception:  # the name is taken; its value is refused once the names are right
            continue
        accepted[key] = params[key]
    return sorted(refused) or sorted(params)

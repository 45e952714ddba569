"""One line instead of a library's traceback when a model refuses its data or parameters.

scikit-learn and XGBoost refuse with a ``ValueError``, TensorFlow with an
``OpError``; both carry messages of many lines (XGBoost appends parameter help,
TensorFlow op names). ``genre train`` (:func:`genre.classifiers.training.train_model`)
and cross-validation (:mod:`genre.evaluation.cv`) fit models on the user's tables
and turn those refusals into one :class:`~genre.errors.GenreError` line through
:func:`model_refusals`, and a ``TypeError`` too when the user gave the model parameters
(a ``--param`` value of the wrong type).
"""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

from genre.errors import GenreError, ParameterError

__all__ = ["library_errors", "refusal_reason", "model_refusals"]


def library_errors() -> tuple[type[Exception], ...]:
    """The exception types, besides ``ValueError``, by which model libraries refuse data or parameters.

    TensorFlow raises ``tf.errors.OpError`` subclasses (``ResourceExhaustedError`` when a
    network does not fit in memory, ``InvalidArgumentError``); XGBoost's ``XGBoostError``
    is a ``ValueError`` already. Evaluated only once a fit has raised, and only from
    libraries already imported: one never imported cannot have raised, and importing
    TensorFlow merely to name its exception would cost seconds.

    Returns
    -------
    types : tuple of type
        Empty when TensorFlow has not been imported.
    """
    tensorflow = sys.modules.get("tensorflow")
    errors = getattr(tensorflow, "errors", None)
    return (errors.OpError,) if errors is not None else ()


def refusal_reason(exc: Exception) -> str:
    """The first line of a library's error message, without TensorFlow's op names around it.

    XGBoost follows the first line with help on the parameter; TensorFlow wraps what
    went wrong in ``{{function_node ...}}`` before and ``[Op:Name] name:`` after. None
    of that says anything to a user.

    Parameters
    ----------
    exc : Exception
        The library's exception.

    Returns
    -------
    reason : str
        One line; the exception's type name when its message is empty.
    """
    line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    line = re.sub(r"\s*\[Op:\w+\].*$", "", re.sub(r"^\{\{[^}]*\}\}\s*", "", line))
    return line or type(exc).__name__


@contextmanager
def model_refusals(
    error: type[GenreError], context: str, *, params: Mapping[str, Any] | None = None
) -> Iterator[None]:
    """Re-raise a library's refusal inside the block as ``error("{context}: {reason}")``.

    :class:`~genre.errors.GenreError` passes unchanged (its message already speaks to
    the user). A ``TypeError`` is taken for a refusal of the user's ``params`` when
    there are any (``--param C_grid=abc`` reaching code that expects numbers) and
    raised as a :class:`~genre.errors.ParameterError` that names them; without params
    it is a bug, and it passes with its traceback like any other exception.

    Parameters
    ----------
    error : type
        The :class:`~genre.errors.GenreError` subclass to raise.
    context : str
        What was being done, e.g. ``"model dense failed on fold 3"``.
    params : mapping, optional
        The parameters the user gave the model (``--param``); empty or ``None`` when
        it runs with its defaults.

    Raises
    ------
    error
        The block raised a ``ValueError`` or a :func:`library_errors` type.
    genre.errors.ParameterError
        The block raised a ``TypeError`` and ``params`` is not empty.
    """
    try:
        yield
    except GenreError:
        raise
    except (ValueError, *library_errors()) as exc:
        # from None: the library's own traceback is what this replaces; it stays on
        # the exception's __context__ for whoever debugs.
        raise error(f"{context}: {refusal_reason(exc)}") from None
    except TypeError as exc:
        if not params:
            raise
        given = ", ".join(f"{key}={_short_repr(value)}" for key, value in params.items())
        raise ParameterError(
            f"{context}: {refusal_reason(exc)} (check the types of the parameters given: {given})"
        ) from None


def _short_repr(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"

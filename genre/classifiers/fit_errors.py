"""One line instead of a library's traceback when a model refuses its data or parameters.

scikit-learn and XGBoost refuse with a ``ValueError``, TensorFlow with an
``OpError``; both carry messages of many lines (XGBoost appends parameter help,
TensorFlow op names). ``genre train`` (:func:`genre.classifiers.training.train_model`)
and cross-validation (:mod:`genre.evaluation.cv`) fit models on the user's tables
and turn those refusals into one :class:`~genre.errors.GenreError` line through
:func:`model_refusals`.
"""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager
from typing import Iterator

from genre.errors import GenreError

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
def model_refusals(error: type[GenreError], context: str) -> Iterator[None]:
    """Re-raise a library's refusal inside the block as ``error("{context}: {reason}")``.

    :class:`~genre.errors.GenreError` passes unchanged (its message already speaks to
    the user), and so does any other exception: a ``TypeError`` or ``KeyError`` from a
    fit is a bug to be seen with its traceback, not the user's data.

    Parameters
    ----------
    error : type
        The :class:`~genre.errors.GenreError` subclass to raise.
    context : str
        What was being done, e.g. ``"model dense failed on fold 3"``.

    Raises
    ------
    error
        The block raised a ``ValueError`` or a :func:`library_errors` type.
    """
    try:
        yield
    except GenreError:
        raise
    except (ValueError, *library_errors()) as exc:
        # from None: the library's own traceback is what this replaces; it stays on
        # the exception's __context__ for whoever debugs.
        raise error(f"{context}: {refusal_reason(exc)}") from None

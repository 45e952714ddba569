"""Rebuild the extractor that wrote a feature table, from what its sidecar recorded.

A table's sidecar (and a model trained on it) keeps the extractor's ``kind`` and
``config`` (:meth:`Extractor.describe`). :func:`extractor_from_description` turns
them back into an extractor, so ``genre predict`` computes exactly the inputs its
model was trained on, whether handcrafted descriptors or pretrained embeddings.
A new extractor kind plugs in by adding one builder to :data:`BUILDERS`.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from genre.errors import ParameterError

__all__ = ["BUILDERS", "extractor_from_description", "can_rebuild"]


def _handcrafted(kind: str, config: Mapping[str, Any]):
    from genre.features.config import FeatureConfig
    from genre.features.handcrafted import HandcraftedExtractor

    return HandcraftedExtractor(FeatureConfig.from_dict(dict(config)))


def _musicnn(kind: str, config: Mapping[str, Any]):
    from genre.features.embeddings import EMBEDDING_MODELS, MusicnnExtractor

    extractor = MusicnnExtractor(name=kind, layers=tuple(config.get("layers") or ()) or None)
    recorded = config.get("model")
    if recorded is not None and recorded != EMBEDDING_MODELS[kind]:
        raise ParameterError(f"embedding kind {kind!r} is model {EMBEDDING_MODELS[kind]}, but {recorded!r} is recorded")
    return extractor


def _builders() -> dict[str, Callable[[str, Mapping[str, Any]], Any]]:
    from genre.features.embeddings import EMBEDDING_MODELS

    return {"handcrafted": _handcrafted, **{name: _musicnn for name in EMBEDDING_MODELS}}


#: ``kind`` -> ``builder(kind, config) -> extractor``.
BUILDERS: dict[str, Callable[[str, Mapping[str, Any]], Any]] = _builders()


def can_rebuild(kind: str | None, config: Any) -> bool:
    """Whether a table of this ``kind`` with this recorded ``config`` can be recomputed from audio."""
    return kind in BUILDERS and isinstance(config, Mapping)


def extractor_from_description(kind: str | None, config: Mapping[str, Any] | None):
    """The extractor described by a sidecar's (or model's) ``kind`` and ``config``.

    Parameters
    ----------
    kind : str
        ``"handcrafted"`` or an embedding name (``"musicnn"``, ``"vgg"``...).
    config : mapping
        The recorded configuration.

    Returns
    -------
    extractor
        An object with ``kind``, ``feature_columns()``, ``describe()`` and ``extract_file(path)``.

    Raises
    ------
    genre.errors.ParameterError
        Unknown kind, missing configuration, or a configuration the extractor refuses.
    """
    if not can_rebuild(kind, config):
        known = ", ".join(sorted(BUILDERS))
        raise ParameterError(f"cannot recompute {kind or 'unknown'} features from audio (known kinds: {known})")
    try:
        return BUILDERS[kind](kind, config)
    except (TypeError, ValueError, KeyError) as exc:
        raise ParameterError(f"invalid {kind} configuration {dict(config)!r}: {exc}") from None

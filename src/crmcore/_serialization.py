"""JSON in and out, through one private cattrs converter.

Domain objects are (un)structured here, at the edge, not inside the classes: the converter
forbids unknown keys, keeps ``str`` and ``int`` customer ids apart, and writes date-times in ISO
8601. Fitted models and trees are saved as *documents*: a JSON object with the saved type, a
schema version and a payload, so a loader can refuse what it does not understand rather than
guess. Nothing is ever pickled.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

import cattrs
from cattrs.preconf.json import make_converter

from crmcore._errors import CRMError, SerializationError

__all__ = ["dump_document", "from_json", "load_document", "to_json"]

T = TypeVar("T")

_converter = make_converter(forbid_extra_keys=True)


def _parse(text: str | bytes) -> Any:
    """``json.loads`` with every way it can fail as a :class:`SerializationError`."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SerializationError(f"not valid JSON: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise SerializationError(f"not valid JSON: the bytes are not UTF-8 (nor UTF-16/32) "
                                 f"text: {exc}") from exc
    except RecursionError as exc:
        raise SerializationError("not a crmcore document: the JSON nests too deeply to "
                                 "read") from exc
    except TypeError as exc:
        raise SerializationError(f"expected JSON text (str or bytes), got "
                                 f"{type(text).__name__}") from exc


def to_json(obj: object, *, indent: int | None = None) -> str:
    """Serialise a crmcore domain object (``Customer``, ``Transaction``, ``ValueScore``, ...)
    to a JSON string that :func:`from_json` reads back to an equal object."""
    return json.dumps(_converter.unstructure(obj), indent=indent, ensure_ascii=False,
                      allow_nan=False)


def from_json(text: str | bytes, cls: type[T]) -> T:
    """Read an object of type ``cls`` from JSON written by :func:`to_json`.

    Raises
    ------
    SerializationError
        The text is not JSON, or does not describe a ``cls`` (missing, unknown or mistyped
        fields, values that break the class's invariants).
    """
    data = _parse(text)
    try:
        return _converter.structure(data, cls)
    except (cattrs.BaseValidationError, cattrs.ForbiddenExtraKeysError) as exc:
        own = [str(leaf) for leaf in _leaves(exc) if isinstance(leaf, CRMError)]
        details = "; ".join(own or cattrs.transform_error(exc))
        raise SerializationError(f"JSON does not describe a {cls.__name__}: {details}") from exc
    except (TypeError, ValueError) as exc:
        raise SerializationError(f"JSON does not describe a {cls.__name__}: {exc}") from exc
    except RecursionError as exc:
        raise SerializationError(f"JSON does not describe a {cls.__name__}: it nests too "
                                 "deeply") from exc


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def dump_document(kind: str, version: int, payload: Mapping[str, Any]) -> str:
    """A saved-object document: ``{"crmcore": kind, "schema_version": version, ...payload}``."""
    if "crmcore" in payload or "schema_version" in payload:
        raise SerializationError("payload may not use the reserved keys 'crmcore' or "
                                 "'schema_version'")
    document = {"crmcore": kind, "schema_version": version, **payload}
    try:
        return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)
    except ValueError as exc:
        raise SerializationError(f"cannot save {kind}: {exc}") from exc


def load_document(text: str | bytes, kind: str, versions: tuple[int, ...]) -> dict[str, Any]:
    """Read a document written by :func:`dump_document`, checking its kind and version.

    Returns the payload (the document without its two header keys).
    """
    document = _parse(text)
    if not isinstance(document, dict):
        raise SerializationError(f"expected a JSON object describing a {kind}, got "
                                 f"{type(document).__name__}")
    found = document.pop("crmcore", None)
    if found != kind:
        raise SerializationError(f"expected a saved {kind}, found {found!r}")
    version = document.pop("schema_version", None)
    if version not in versions:
        raise SerializationError(
            f"saved {kind} has schema version {version!r}; this crmcore reads "
            f"{', '.join(map(str, versions))}"
        )
    return document

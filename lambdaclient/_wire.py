"""The one cattrs converter between AWS's JSON (PascalCase) and our models.

Structuring is strict about types (a number where AWS sends a string is an error, never
silently turned into a string) and lenient about keys (unknown keys are ignored, so new AWS
fields do not break old clients). Any mismatch raises ``TypeError``, ``KeyError`` or
``ValueError``; :func:`structure` turns those into :class:`ResponseParseError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._errors import ResponseParseError
from ._models import (
    AliasConfiguration,
    AliasPage,
    DeadLetterConfig,
    FunctionConfiguration,
    RoutingConfig,
    VersionPage,
)

__all__ = ["converter", "structure"]

T = TypeVar("T")

converter = cattrs.Converter()


def _str(value: object) -> str:
    if type(value) is not str:
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _optional_str(value: object) -> str | None:
    return None if value is None else _str(value)


def _weight(value: object) -> float:
    if type(value) is float or type(value) is int:
        return float(value)
    raise TypeError(f"expected a number, got {type(value).__name__}")


def _mapping(value: object) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected a JSON object, got {type(value).__name__}")
    return value


def _routing_config(value: object) -> RoutingConfig | None:
    # AWS omits RoutingConfig when an alias has no weights; other servers send null or an
    # empty map. All three mean the same to a caller: no weights, so None.
    if value is None:
        return None
    weights = _mapping(value).get("AdditionalVersionWeights")
    if not weights:
        return None
    return RoutingConfig({_str(k): _weight(v) for k, v in _mapping(weights).items()})


def _alias(value: object) -> AliasConfiguration:
    d = _mapping(value)
    return AliasConfiguration(
        _str(d["AliasArn"]),
        _str(d["Name"]),
        _str(d["FunctionVersion"]),
        _optional_str(d.get("Description")),
        _routing_config(d.get("RoutingConfig")),
        _str(d["RevisionId"]),
    )


def _alias_page(value: object) -> AliasPage:
    d = _mapping(value)
    aliases = d.get("Aliases")
    if aliases is None:
        aliases = []
    elif not isinstance(aliases, list):
        raise TypeError("Aliases is not a list")
    return AliasPage(tuple(map(_alias, aliases)), _optional_str(d.get("NextMarker")) or None)


converter.register_structure_hook(RoutingConfig, lambda v, _: _routing_config(v))
converter.register_structure_hook(AliasConfiguration, lambda v, _: _alias(v))
converter.register_structure_hook(AliasPage, lambda v, _: _alias_page(v))

converter.register_unstructure_hook(
    RoutingConfig,
    lambda rc: {"AdditionalVersionWeights": dict(rc.additional_version_weights)},
)


def _unstructure_alias(alias: AliasConfiguration) -> dict[str, Any]:
    d: dict[str, Any] = {
        "AliasArn": alias.alias_arn,
        "Name": alias.name,
        "FunctionVersion": alias.function_version,
        "RevisionId": alias.revision_id,
    }
    if alias.description is not None:
        d["Description"] = alias.description
    if alias.routing_config is not None:
        d["RoutingConfig"] = converter.unstructure(alias.routing_config)
    return d


converter.register_unstructure_hook(AliasConfiguration, _unstructure_alias)
converter.register_unstructure_hook(
    AliasPage,
    lambda page: {
        "Aliases": [converter.unstructure(a) for a in page.aliases],
        **({"NextMarker": page.next_marker} if page.next_marker else {}),
    },
)


def _int(value: object) -> int:
    if type(value) is not int:
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


# cattrs' own hooks would turn 5 into "5" and "5" into 5; AWS's JSON is typed, so a mismatch
# is a malformed response, not something to paper over.
converter.register_structure_hook(str, lambda v, _: _str(v))
converter.register_structure_hook(int, lambda v, _: _int(v))


def _pascal(name: str) -> str:
    return "CodeSha256" if name == "code_sha256" else name.title().replace("_", "")


def _overrides(cls: type[Any], *, omit_none: bool) -> Any:
    # AWS's member names are the field names in PascalCase; None fields are left out going
    # out, as AWS leaves out what does not apply.
    return {
        a.name: override(rename=_pascal(a.name), omit_if_default=omit_none)
        for a in attrs.fields(cls)
    }


def _object_hook(cls: type[Any]) -> Callable[[object, Any], Any]:
    # The generated hook would read a list or a string as an object with no fields.
    generated = make_dict_structure_fn(cls, converter, **_overrides(cls, omit_none=False))
    return lambda value, type_: generated(_mapping(value), type_)


for _cls in (DeadLetterConfig, FunctionConfiguration):
    converter.register_structure_hook(_cls, _object_hook(_cls))
    converter.register_unstructure_hook(
        _cls, make_dict_unstructure_fn(_cls, converter, **_overrides(_cls, omit_none=True))
    )


def _version_page(value: object) -> VersionPage:
    d = _mapping(value)
    versions = d.get("Versions")
    if versions is None:
        versions = []
    elif not isinstance(versions, list):
        raise TypeError("Versions is not a list")
    return VersionPage(
        tuple(_located(converter.structure, v, index) for index, v in enumerate(versions)),
        _optional_str(d.get("NextMarker")) or None,
    )


def _located(
    structure_: Callable[[object, type[FunctionConfiguration]], FunctionConfiguration],
    value: object,
    index: int,
) -> FunctionConfiguration:
    """Structure the version at ``index`` of a page, saying where in the page it went wrong."""
    where = f"$.versions[{index}]"
    try:
        return structure_(value, FunctionConfiguration)
    except cattrs.BaseValidationError as exc:
        messages = (m.replace("@ $", f"@ {where}", 1) for m in cattrs.transform_error(exc))
        raise ValueError("; ".join(messages)) from exc
    except TypeError as exc:
        raise TypeError(f"{exc} @ {where}") from exc


converter.register_structure_hook(VersionPage, lambda v, _: _version_page(v))
converter.register_unstructure_hook(
    VersionPage,
    lambda page: {
        "Versions": [converter.unstructure(v) for v in page.versions],
        **({"NextMarker": page.next_marker} if page.next_marker else {}),
    },
)


def structure(value: object, cls: type[T], *, status: int, request_id: str | None) -> T:
    """Structure a decoded JSON body into ``cls``, or raise :class:`ResponseParseError`."""
    try:
        return converter.structure(value, cls)
    except (KeyError, TypeError, ValueError, cattrs.BaseValidationError) as exc:
        if isinstance(exc, cattrs.BaseValidationError):
            what = "; ".join(cattrs.transform_error(exc))
        else:
            what = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ResponseParseError(
            f"response is not a valid {cls.__name__}: {what}", status=status, request_id=request_id
        ) from exc

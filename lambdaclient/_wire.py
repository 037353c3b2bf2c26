"""The one cattrs converter between AWS's JSON (PascalCase) and our models.

Structuring is strict about types (a number where AWS sends a string is an error, never
silently turned into a string) and lenient about keys (unknown keys are ignored, so new AWS
fields do not break old clients). Any mismatch raises ``TypeError``, ``KeyError`` or
``ValueError``; :func:`structure` turns those into :class:`ResponseParseError`.

The alias shapes, which every rollout reads and writes, have hand-written hooks that the
protocol calls directly (:data:`STRUCTURE_HOOKS`, :func:`unstructure_routing_config`); the
converter uses the same hooks. cattrs itself is imported on the first use of
:data:`converter`, so a cold start that only touches aliases never pays for it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ._errors import ResponseParseError
from ._models import (
    AliasConfiguration,
    AliasPage,
    DeadLetterConfig,
    FunctionConfiguration,
    RoutingConfig,
    VersionPage,
)

if TYPE_CHECKING:
    import cattrs

__all__ = ["converter", "structure", "unstructure_routing_config"]

T = TypeVar("T")


def _str(value: object) -> str:
    if type(value) is not str:
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _optional_str(value: object) -> str | None:
    return None if value is None else _str(value)


def _weight(value: object) -> float:
    if type(value) is float:
        return value
    if type(value) is int:
        try:
            return float(value)
        except OverflowError:
            raise ValueError("a weight is an integer too large for a float") from None
    raise TypeError(f"expected a number, got {type(value).__name__}")


def _marker(value: object) -> str | None:
    # The marker goes back in the next request's query, which is UTF-8: a lone surrogate
    # (JSON's "\ud800") could not be sent, so the page is refused here, not the next request.
    marker = _optional_str(value) or None
    if marker is not None and not marker.isascii():
        try:
            marker.encode()
        except UnicodeEncodeError:
            raise ValueError(
                "NextMarker is not valid Unicode (it holds a lone surrogate)"
            ) from None
    return marker


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
    return AliasPage(tuple(map(_alias, aliases)), _marker(d.get("NextMarker")))


def unstructure_routing_config(routing_config: RoutingConfig) -> dict[str, Any]:
    """A RoutingConfig as AWS's JSON."""
    return {"AdditionalVersionWeights": dict(routing_config.additional_version_weights)}


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
        d["RoutingConfig"] = unstructure_routing_config(alias.routing_config)
    return d


def _unstructure_alias_page(page: AliasPage) -> dict[str, Any]:
    return {
        "Aliases": [_unstructure_alias(a) for a in page.aliases],
        **({"NextMarker": page.next_marker} if page.next_marker else {}),
    }


def _int(value: object) -> int:
    if type(value) is not int:
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _pascal(name: str) -> str:
    return "CodeSha256" if name == "code_sha256" else name.title().replace("_", "")


def _version_page(value: object) -> VersionPage:
    d = _mapping(value)
    versions = d.get("Versions")
    if versions is None:
        versions = []
    elif not isinstance(versions, list):
        raise TypeError("Versions is not a list")
    return VersionPage(
        tuple(_located(v, index) for index, v in enumerate(versions)),
        _marker(d.get("NextMarker")),
    )


def _located(value: object, index: int) -> FunctionConfiguration:
    """Structure the version at ``index`` of a page, saying where in the page it went wrong."""
    import cattrs

    where = f"$.versions[{index}]"
    try:
        return _converter().structure(value, FunctionConfiguration)
    except cattrs.BaseValidationError as exc:
        messages = (m.replace("@ $", f"@ {where}", 1) for m in cattrs.transform_error(exc))
        raise ValueError("; ".join(messages)) from exc
    except TypeError as exc:
        raise TypeError(f"{exc} @ {where}") from exc


STRUCTURE_HOOKS: Mapping[type[Any], Callable[[object], Any]] = {
    RoutingConfig: _routing_config,
    AliasConfiguration: _alias,
    AliasPage: _alias_page,
    VersionPage: _version_page,
}
"""Hand-written hooks, called directly on the hot path and registered on the converter."""


def _ignoring_type(hook: Callable[[object], Any]) -> Callable[[object, Any], Any]:
    return lambda value, _: hook(value)


@functools.cache
def _converter() -> cattrs.Converter:
    import cattrs
    from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

    made = cattrs.Converter()
    for cls, hook in STRUCTURE_HOOKS.items():
        made.register_structure_hook(cls, _ignoring_type(hook))
    made.register_unstructure_hook(RoutingConfig, unstructure_routing_config)
    made.register_unstructure_hook(AliasConfiguration, _unstructure_alias)
    made.register_unstructure_hook(AliasPage, _unstructure_alias_page)
    made.register_unstructure_hook(
        VersionPage,
        lambda page: {
            "Versions": [made.unstructure(v) for v in page.versions],
            **({"NextMarker": page.next_marker} if page.next_marker else {}),
        },
    )
    # cattrs' own hooks would turn 5 into "5" and "5" into 5; AWS's JSON is typed, so a
    # mismatch is a malformed response, not something to paper over.
    made.register_structure_hook(str, lambda v, _: _str(v))
    made.register_structure_hook(int, lambda v, _: _int(v))

    def overrides(cls: type[Any], *, omit_none: bool) -> Any:
        # AWS's member names are the field names in PascalCase; None fields are left out
        # going out, as AWS leaves out what does not apply.
        return {
            a.name: override(rename=_pascal(a.name), omit_if_default=omit_none)
            for a in attrs.fields(cls)
        }

    for cls in (DeadLetterConfig, FunctionConfiguration):
        generated = make_dict_structure_fn(cls, made, **overrides(cls, omit_none=False))
        # The generated hook would read a list or a string as an object with no fields.
        made.register_structure_hook(
            cls, lambda value, type_, generated=generated: generated(_mapping(value), type_)
        )
        made.register_unstructure_hook(
            cls, make_dict_unstructure_fn(cls, made, **overrides(cls, omit_none=True))
        )
    return made


def __getattr__(name: str) -> Any:
    # ``converter`` is made (and cattrs imported) when first asked for.
    if name == "converter":
        return _converter()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    converter: cattrs.Converter


def structure(value: object, cls: type[T], *, status: int, request_id: str | None) -> T:
    """Structure a decoded JSON body into ``cls``, or raise :class:`ResponseParseError`."""
    hook = STRUCTURE_HOOKS.get(cls)
    try:
        if hook is not None:
            result: T = hook(value)
            return result
        return _converter().structure(value, cls)
    except (KeyError, TypeError, ValueError) as exc:
        what = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ResponseParseError(
            f"response is not a valid {cls.__name__}: {what}", status=status, request_id=request_id
        ) from exc
    except Exception as exc:
        import cattrs

        if not isinstance(exc, cattrs.BaseValidationError):
            raise
        what = "; ".join(cattrs.transform_error(exc))
        raise ResponseParseError(
            f"response is not a valid {cls.__name__}: {what}", status=status, request_id=request_id
        ) from exc

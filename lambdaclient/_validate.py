"""Checks made before anything is sent, from Lambda's service model and the routing rules.

botocore checks only types and minimums, so a weight of 1.5 or an all-digit alias name fails
at the server. These checks fail first, with a :class:`ValidationError` naming the argument.
The patterns are the model's (``botocore/data/lambda/2015-03-31``), matched whole.
"""

from __future__ import annotations

import base64
import enum
import json
import re
from collections.abc import Mapping
from typing import TypeVar

from ._errors import ValidationError
from ._models import RoutingConfig

E = TypeVar("E", bound=enum.Enum)

__all__ = [
    "check_alias_name",
    "check_enum",
    "check_description",
    "check_function_name",
    "check_function_version",
    "check_optional_str",
    "check_page_size",
    "check_qualifier",
    "check_routing_config",
    "encode_client_context",
    "function_name_parts",
]

_FUNCTION_NAME = re.compile(
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?(?P<name>[a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?",
    re.ASCII,  # \d must not match non-ASCII digits
)
_NAMESPACED_FUNCTION_NAME = re.compile(
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?"
    r"((?P<region>(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}):)?"
    r"(\d{12}:)?(function:)?(?P<name>[a-zA-Z0-9-_\.]+)"
    r"(:(?P<qualifier>\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?",
    re.ASCII,
)
_QUALIFIER = re.compile(r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+")
_ALIAS = re.compile(r"(?!^[0-9]+$)([a-zA-Z0-9-_]+)")
_VERSION_WITH_LATEST_PUBLISHED = re.compile(r"(\$LATEST(\.PUBLISHED)?|[0-9]+)")
_ADDITIONAL_VERSION = re.compile(r"[0-9]+")

# "The length constraint applies only to the full ARN. If you specify only the function name,
# it is limited to 64 characters." (service model)
_MAX_FUNCTION_NAME = 140
_MAX_NAMESPACED_FUNCTION_NAME = 256
_MAX_QUALIFIER = 128
# "The maximum size of the client context is 3,583 bytes" (Invoke documentation), base64.
MAX_CLIENT_CONTEXT = 3583
_MAX_BARE_FUNCTION_NAME = 64
_MAX_ALIAS = 128
_MAX_VERSION = 1024
_MAX_DESCRIPTION = 256
MAX_PAGE_SIZE = 10_000


def _string(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a str, not {type(value).__name__}", field=field)
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:  # a lone surrogate, e.g. from os.fsdecode
            raise ValidationError(f"{field} is not valid Unicode text", field=field) from None
    return value


def check_function_name(
    value: object, field: str = "function_name", *, namespaced: bool = False
) -> str:
    """A function name, a partial ARN or a full ARN, optionally with a qualifier.

    ``namespaced`` is the invoke form (``NamespacedFunctionName``): up to 256 characters, with
    '.' allowed in the name and ``$LATEST.PUBLISHED`` as a qualifier.
    """
    name = _string(value, field)
    if not name:
        raise ValidationError(f"{field} must not be empty", field=field)
    limit = _MAX_NAMESPACED_FUNCTION_NAME if namespaced else _MAX_FUNCTION_NAME
    if len(name) > limit:
        raise ValidationError(
            f"{field} is {len(name)} characters; the maximum is {limit}", field=field
        )
    match = (_NAMESPACED_FUNCTION_NAME if namespaced else _FUNCTION_NAME).fullmatch(name)
    if match is None:
        raise ValidationError(
            f"{field} {name!r} is not a function name, partial ARN or function ARN", field=field
        )
    if match["name"].strip(".") == "":
        raise ValidationError(f"{field} {name!r} is not a function name", field=field)
    if len(match["name"]) > _MAX_BARE_FUNCTION_NAME:
        raise ValidationError(
            f"{field}: a function name is at most {_MAX_BARE_FUNCTION_NAME} characters",
            field=field,
        )
    return name


def function_name_parts(function_name: str) -> tuple[str, str | None, str | None]:
    """A function name, partial ARN or ARN (as :func:`check_function_name` takes, in either
    form): its bare name (what CloudWatch's ``FunctionName`` dimension and a span's
    ``faas.invoked_name`` hold), the region its ARN names and its qualifier, None for either
    it lacks. A name that is not one of those is taken whole."""
    match = _NAMESPACED_FUNCTION_NAME.fullmatch(function_name)
    if match is None:
        return function_name, None, None
    return match["name"], match["region"], match["qualifier"]


def check_alias_name(value: object, field: str = "name") -> str:
    """An alias name: 1-128 letters, digits, '-' or '_', and not all digits."""
    name = _string(value, field)
    if not 1 <= len(name) <= _MAX_ALIAS or _ALIAS.fullmatch(name) is None:
        raise ValidationError(
            f"{field} {name!r} is not an alias name: 1-{_MAX_ALIAS} letters, digits, '-' or '_',"
            " and not all digits",
            field=field,
        )
    return name


def check_function_version(value: object, field: str = "function_version") -> str:
    """A version number, ``$LATEST`` or ``$LATEST.PUBLISHED``."""
    version = _string(value, field)
    if len(version) > _MAX_VERSION or _VERSION_WITH_LATEST_PUBLISHED.fullmatch(version) is None:
        raise ValidationError(
            f"{field} {version!r} is not a version number, '$LATEST' or '$LATEST.PUBLISHED'",
            field=field,
        )
    return version


def check_qualifier(value: object, field: str = "qualifier") -> str | None:
    """None, or a version, an alias, ``$LATEST`` or ``$LATEST.PUBLISHED``."""
    if value is None:
        return None
    qualifier = _string(value, field)
    if not 1 <= len(qualifier) <= _MAX_QUALIFIER or _QUALIFIER.fullmatch(qualifier) is None:
        raise ValidationError(
            f"{field} {qualifier!r} is not a version, an alias or '$LATEST'", field=field
        )
    return qualifier


def encode_client_context(value: object, field: str = "client_context") -> str | None:
    """None, or a mapping as the base64 JSON Lambda passes to the function (at most 3,583
    bytes once encoded)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValidationError(f"{field} must be a mapping, not {type(value).__name__}", field=field)
    try:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
        encoded = base64.b64encode(text.encode()).decode()
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValidationError(f"{field} is not JSON-serialisable: {exc}", field=field) from exc
    if len(encoded) > MAX_CLIENT_CONTEXT:
        raise ValidationError(
            f"{field} is {len(encoded)} bytes encoded; the maximum is {MAX_CLIENT_CONTEXT}",
            field=field,
        )
    return encoded


def check_enum(value: object, enum_type: type[E], field: str) -> E:
    """A member of ``enum_type`` (or its value)."""
    if type(value) is enum_type:
        return value
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in enum_type)
        raise ValidationError(
            f"{field} must be one of {allowed}, not {value!r}", field=field
        ) from None


def check_description(value: object, field: str = "description") -> str:
    """A description of at most 256 characters."""
    description = _string(value, field)
    if len(description) > _MAX_DESCRIPTION:
        raise ValidationError(
            f"{field} is {len(description)} characters; the maximum is {_MAX_DESCRIPTION}",
            field=field,
        )
    return description


def check_optional_str(value: object, field: str) -> str | None:
    """None, or a non-empty string (markers and revision ids are opaque)."""
    if value is None:
        return None
    text = _string(value, field)
    if not text:
        raise ValidationError(f"{field} must not be empty", field=field)
    return text


def check_page_size(value: object, field: str = "page_size") -> int | None:
    """None, or an int in 1-10000 (Lambda's MaxItems)."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError(f"{field} must be an int, not {type(value).__name__}", field=field)
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise ValidationError(f"{field} must be between 1 and {MAX_PAGE_SIZE}", field=field)
    return value


def check_routing_config(
    value: object, primary_version: str | None, field: str = "routing_config"
) -> RoutingConfig:
    """The weighted-alias rules: at most one additional version, a version number that is not
    the primary, a weight in [0.0, 1.0], and no weights while the primary is ``$LATEST``.

    ``primary_version`` is None when the call does not change the primary (``update_alias``
    without ``function_version``); the server then checks what it alone knows.
    """
    if not isinstance(value, RoutingConfig):
        raise ValidationError(
            f"{field} must be a RoutingConfig, not {type(value).__name__}", field=field
        )
    # Typed loosely: callers outside mypy can put anything in the mapping.
    weights: list[tuple[object, object]] = list(value.additional_version_weights.items())
    if len(weights) > 1:
        raise ValidationError(
            f"{field}: an alias routes to at most one additional version, got {len(weights)}",
            field=field,
        )
    for version, weight in weights:
        if (
            not isinstance(version, str)
            or len(version) > _MAX_VERSION
            or _ADDITIONAL_VERSION.fullmatch(version) is None
        ):
            raise ValidationError(
                f"{field}: the additional version must be a published version number,"
                f" got {version!r}",
                field=field,
            )
        if version == primary_version:
            raise ValidationError(
                f"{field}: the additional version {version!r} is the alias's primary version",
                field=field,
            )
        if (
            not isinstance(weight, int | float)
            or isinstance(weight, bool)
            or not 0.0 <= weight <= 1.0  # also False for NaN, and safe for huge ints
        ):
            raise ValidationError(
                f"{field}: the weight of version {version} must be a number in [0.0, 1.0],"
                f" got {weight!r}",
                field=field,
            )
        if primary_version is not None and primary_version.startswith("$LATEST"):
            raise ValidationError(
                f"{field}: an alias whose function_version is {primary_version} cannot have"
                " weights; point it at a published version",
                field=field,
            )
    return value

"""Tests for lambdaclient._validate: the checks that reject bad arguments before any request.

Each rejection must be a ``ValidationError`` (so also a ``ValueError``) whose ``field`` names
the argument, and never some other exception: callers catch ValidationError to report a bad
input. Where botocore's Lambda model carries a pattern, the model is used as the oracle.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import botocore.session
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from lambdaclient._errors import ValidationError
from lambdaclient._models import RoutingConfig
from lambdaclient._validate import (
    check_alias_name,
    check_description,
    check_function_name,
    check_function_version,
    check_optional_str,
    check_page_size,
    check_routing_config,
)

_MODEL = botocore.session.get_session().get_service_model("lambda")


def _model_pattern(shape: str) -> str:
    pattern: str = _MODEL.shape_for(shape).metadata["pattern"]
    return pattern


ALIAS_PATTERN = _model_pattern("Alias")
FUNCTION_NAME_PATTERN = _model_pattern("FunctionName")
VERSION_PATTERN = _model_pattern("VersionWithLatestPublished")

ARN = "arn:aws:lambda:us-west-2:123456789012:function:my-function"


def _outcome(check: Callable[[object], str], value: object) -> str | ValidationError:
    """What ``check(value)`` returns, or the ValidationError it raises (any other exception
    propagates and fails the test)."""
    try:
        return check(value)
    except ValidationError as exc:
        return exc


def _rejects(check: object, value: object, field: str) -> None:
    """``check(value)`` raises a ValidationError (a ValueError) naming ``field``."""
    assert callable(check)
    with pytest.raises(ValidationError) as info:
        check(value)
    assert isinstance(info.value, ValueError)
    assert info.value.field == field


# --------------------------------------------------------------------------------------------
# Function names
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "my-function",
        "my_function-2",
        "my-function:v1",
        "my-function:$LATEST",
        "123456789012:function:my-function",
        ARN,
        f"{ARN}:live",
        f"{ARN}:$LATEST",
        "arn:aws-cn:lambda:cn-north-1:123456789012:function:f",
        "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f",
        "arn:aws-iso-b:lambda:us-isob-east-1:123456789012:function:f",
        "arn:aws-eusc:lambda:eusc-de-east-1:123456789012:function:f",
        "a" * 64,
    ],
)
def test_function_name_accepted_unchanged(name: str) -> None:
    assert check_function_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a" * 65,  # a bare name is limited to 64 even though the field allows 140
        f"arn:aws:lambda:us-west-2:123456789012:function:{'a' * 65}",
        # Arabic-Indic digits are \d to Python's re but not an account id to AWS.
        "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662:function:f",
        "my/function",
        "my-function?x",
        "my-function#x",
        "my function",
        "my.function",
        "arn:aws:lambda:us-west-2:123456789012:function:f:v1:extra",
        "my-function\n",
    ],
)
def test_function_name_rejected(name: str) -> None:
    _rejects(check_function_name, name, "function_name")


def test_function_name_over_140_characters_is_rejected() -> None:
    # Each part is within its own limit; only the whole is too long.
    name = f"arn:aws:lambda:us-west-2:123456789012:function:{'a' * 64}:{'q' * 29}"
    assert len(name) == 141
    with pytest.raises(ValidationError, match="140"):
        check_function_name(name)


@pytest.mark.parametrize("value", [None, 5, b"my-function", ["my-function"]])
def test_function_name_must_be_str(value: object) -> None:
    _rejects(check_function_name, value, "function_name")


def test_field_name_is_the_callers() -> None:
    _rejects(lambda v: check_function_name(v, "target"), "a/b", "target")


@given(st.text() | st.from_regex(FUNCTION_NAME_PATTERN, fullmatch=True))
@example("1" * 12 + ":function:f")
def test_function_name_returns_input_or_raises_validation_error(text: str) -> None:
    result = _outcome(check_function_name, text)
    if isinstance(result, ValidationError):
        assert result.field == "function_name"
        return
    assert result == text
    # We are stricter than the model (the 64-character bare name), never looser.
    assert re.fullmatch(FUNCTION_NAME_PATTERN, text)
    assert 1 <= len(text) <= 140


# --------------------------------------------------------------------------------------------
# Alias names
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["live", "1a", "a1", "LIVE_2", "-", "_", "a" * 128])
def test_alias_name_accepted(name: str) -> None:
    assert check_alias_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "1", "0123", "a.b", "$LATEST", "a/b", "a b", "a:b", "a" * 129, "caf\u00e9"]
)
def test_alias_name_rejected(name: str) -> None:
    _rejects(check_alias_name, name, "name")


@pytest.mark.parametrize("value", [None, 1, b"live"])
def test_alias_name_must_be_str(value: object) -> None:
    _rejects(check_alias_name, value, "name")


@given(
    st.text()
    | st.from_regex(ALIAS_PATTERN, fullmatch=True)
    | st.from_regex(r"[0-9]{1,5}", fullmatch=True)
)
def test_alias_name_agrees_with_model(text: str) -> None:
    result = _outcome(check_alias_name, text)
    if isinstance(result, ValidationError):
        assert result.field == "name"
        # The only rejections beyond the model's pattern are its length limits.
        assert re.fullmatch(ALIAS_PATTERN, text) is None or not 1 <= len(text) <= 128
        return
    assert result == text
    assert re.fullmatch(ALIAS_PATTERN, text)
    assert len(text) <= 128


# --------------------------------------------------------------------------------------------
# Versions, descriptions, optional strings, page sizes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["$LATEST", "$LATEST.PUBLISHED", "1", "42", "9" * 1024])
def test_function_version_accepted(version: str) -> None:
    assert check_function_version(version) == version


@pytest.mark.parametrize(
    "version",
    ["", "latest", "$latest", "1.0", "-1", "v1", "$LATEST.", "$LATEST.DRAFT", " 1", "9" * 1025],
)
def test_function_version_rejected(version: str) -> None:
    _rejects(check_function_version, version, "function_version")


@given(st.text() | st.from_regex(VERSION_PATTERN, fullmatch=True))
def test_function_version_accepts_only_what_the_model_allows(text: str) -> None:
    if _outcome(check_function_version, text) == text:
        assert re.fullmatch(VERSION_PATTERN, text)


@pytest.mark.parametrize("description", ["", "prod", "x" * 256])
def test_description_accepted(description: str) -> None:
    assert check_description(description) == description


@pytest.mark.parametrize("value", ["x" * 257, None, 3])
def test_description_rejected(value: object) -> None:
    _rejects(check_description, value, "description")


def test_optional_str() -> None:
    assert check_optional_str(None, "marker") is None
    assert check_optional_str("tok/+=", "marker") == "tok/+="
    _rejects(lambda v: check_optional_str(v, "marker"), "", "marker")
    _rejects(lambda v: check_optional_str(v, "revision_id"), 7, "revision_id")


@pytest.mark.parametrize("size", [None, 1, 50, 10_000])
def test_page_size_accepted(size: int | None) -> None:
    assert check_page_size(size) == size


@pytest.mark.parametrize("value", [0, -1, 10_001, True, False, 1.5, 5.0, "5"])
def test_page_size_rejected(value: object) -> None:
    _rejects(check_page_size, value, "page_size")


# --------------------------------------------------------------------------------------------
# Routing rules (weighted aliases)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weights", "primary"),
    [
        ({}, "1"),
        ({}, "$LATEST"),  # clearing the weights is always allowed
        ({"2": 0.1}, "1"),
        ({"2": 0.0}, "1"),
        ({"2": 1.0}, "1"),
        ({"2": 1}, "1"),
        ({"2": 0.5}, None),
    ],
)
def test_routing_config_accepted(weights: dict[str, float], primary: str | None) -> None:
    config = RoutingConfig(weights)
    assert check_routing_config(config, primary) is config


@pytest.mark.parametrize(
    ("weights", "primary"),
    [
        ({"2": 0.1, "3": 0.1}, "1"),  # AWS routes to at most one additional version
        ({"2": -0.01}, "1"),
        ({"2": 1.01}, "1"),
        ({"2": math.nan}, "1"),
        ({"2": math.inf}, "1"),
        ({"2": True}, "1"),
        ({"2": "0.5"}, "1"),
        ({"2": None}, "1"),
        ({"$LATEST": 0.1}, "1"),
        ({"v2": 0.1}, "1"),
        ({"": 0.1}, "1"),
        ({2: 0.1}, "1"),
        ({"1": 0.1}, "1"),  # the additional version is the primary
        ({"2": 0.1}, "$LATEST"),
        ({"2": 0.1}, "$LATEST.PUBLISHED"),
    ],
)
def test_routing_config_rejected(weights: dict[object, object], primary: str | None) -> None:
    config = RoutingConfig(weights)  # type: ignore[arg-type]
    _rejects(lambda v: check_routing_config(v, primary), config, "routing_config")


def test_primary_none_skips_primary_comparison() -> None:
    # update_alias without function_version: only the server knows the current primary.
    config = RoutingConfig({"1": 0.5})
    assert check_routing_config(config, None) is config
    _rejects(lambda v: check_routing_config(v, "1"), config, "routing_config")


@pytest.mark.parametrize("value", [None, {"2": 0.1}, {"AdditionalVersionWeights": {"2": 0.1}}])
def test_routing_config_must_be_a_routing_config(value: object) -> None:
    _rejects(lambda v: check_routing_config(v, "1"), value, "routing_config")


@given(
    st.from_regex(r"[0-9]{1,4}", fullmatch=True),
    st.floats(allow_nan=True, allow_infinity=True) | st.integers() | st.booleans(),
)
def test_weight_accepted_iff_number_in_unit_interval(version: str, weight: float) -> None:
    config = RoutingConfig({version: weight})
    valid = type(weight) is not bool and 0.0 <= weight <= 1.0
    if valid and version != "1":
        assert check_routing_config(config, "1") is config
    else:
        _rejects(lambda v: check_routing_config(v, "1"), config, "routing_config")

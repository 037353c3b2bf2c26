"""Tests for lambdaclient._wire and _models: the converter between AWS JSON and our values.

A value survives the trip to AWS's JSON and back unchanged, the JSON uses the service model's
member names, and the values are immutable, hashable and compared by value, so callers can
keep them in sets, use them as keys and share them between tasks.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import botocore.session
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdaclient._models import AliasConfiguration, AliasPage, RoutingConfig
from lambdaclient._wire import converter

_MODEL = botocore.session.get_session().get_service_model("lambda")
ALIAS_MEMBERS: set[str] = set(_MODEL.shape_for("AliasConfiguration").members)
ROUTING_MEMBERS: set[str] = set(_MODEL.shape_for("AliasRoutingConfiguration").members)
PAGE_MEMBERS: set[str] = set(_MODEL.operation_model("ListAliases").output_shape.members)

ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-fn:live"

# An empty weight map is not generated: AWS omits RoutingConfig when there are no weights, and
# the converter reads an empty map back as None on purpose (see test_protocol).
routing_configs = st.dictionaries(
    st.from_regex(r"[0-9]{1,4}", fullmatch=True), st.floats(0.0, 1.0), min_size=1, max_size=2
).map(RoutingConfig)
aliases = st.builds(
    AliasConfiguration,
    alias_arn=st.just(ARN) | st.text(),
    name=st.from_regex(r"[a-zA-Z0-9_-]{1,20}", fullmatch=True) | st.text(),
    function_version=st.sampled_from(["1", "42", "$LATEST", "$LATEST.PUBLISHED"]) | st.text(),
    description=st.none() | st.text(max_size=256),
    routing_config=st.none() | routing_configs,
    revision_id=st.uuids().map(str) | st.text(),
)
# An empty marker means "no more pages", so it is read back as None.
pages = st.builds(
    AliasPage,
    aliases=st.lists(aliases, max_size=4).map(tuple),
    next_marker=st.none() | st.text(min_size=1),
)


def _alias(**changes: Any) -> AliasConfiguration:
    alias = AliasConfiguration(ARN, "live", "1", "prod", RoutingConfig({"2": 0.1}), "rev-1")
    return attrs.evolve(alias, **changes)


# --------------------------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------------------------


@given(aliases)
def test_alias_round_trip(alias: AliasConfiguration) -> None:
    assert converter.structure(converter.unstructure(alias), AliasConfiguration) == alias


@given(aliases)
def test_alias_round_trip_through_json_text(alias: AliasConfiguration) -> None:
    text = json.dumps(converter.unstructure(alias))
    assert converter.structure(json.loads(text), AliasConfiguration) == alias


@given(pages)
def test_page_round_trip(page: AliasPage) -> None:
    data = json.loads(json.dumps(converter.unstructure(page)))
    assert converter.structure(data, AliasPage) == page


@given(aliases)
def test_unstructure_uses_the_model_member_names(alias: AliasConfiguration) -> None:
    data = converter.unstructure(alias)
    assert set(data) <= ALIAS_MEMBERS
    if alias.routing_config is not None:
        assert set(data["RoutingConfig"]) == ROUTING_MEMBERS


@given(pages)
def test_page_uses_the_model_member_names(page: AliasPage) -> None:
    assert set(converter.unstructure(page)) <= PAGE_MEMBERS


def test_unstructure_alias() -> None:
    assert converter.unstructure(_alias()) == {
        "AliasArn": ARN,
        "Name": "live",
        "FunctionVersion": "1",
        "Description": "prod",
        "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.1}},
        "RevisionId": "rev-1",
    }


def test_unstructure_omits_none() -> None:
    data = converter.unstructure(_alias(description=None, routing_config=None))
    assert data == {"AliasArn": ARN, "Name": "live", "FunctionVersion": "1", "RevisionId": "rev-1"}


def test_unstructure_keeps_empty_description() -> None:
    assert converter.unstructure(_alias(description=""))["Description"] == ""


def test_unstructure_page() -> None:
    page = AliasPage((_alias(routing_config=None),), "tok/+=")
    assert converter.unstructure(page) == {
        "Aliases": [converter.unstructure(_alias(routing_config=None))],
        "NextMarker": "tok/+=",
    }
    assert converter.unstructure(AliasPage((), None)) == {"Aliases": []}


# --------------------------------------------------------------------------------------------
# Immutability, equality, hashing
# --------------------------------------------------------------------------------------------


def test_routing_config_keeps_a_copy_of_the_weights() -> None:
    weights = {"2": 0.1}
    config = RoutingConfig(weights)
    weights["2"] = 0.9
    weights["3"] = 0.5
    assert dict(config.additional_version_weights) == {"2": 0.1}


def test_routing_config_weights_are_read_only() -> None:
    config = RoutingConfig({"2": 0.1})
    with pytest.raises(TypeError):
        config.additional_version_weights["2"] = 0.9  # type: ignore[index]
    with pytest.raises(TypeError):
        del config.additional_version_weights["2"]  # type: ignore[attr-defined]
    assert dict(config.additional_version_weights) == {"2": 0.1}


def test_equal_by_value_and_hashable() -> None:
    assert RoutingConfig({"2": 0.1}) == RoutingConfig({"2": 0.1})
    assert RoutingConfig({"2": 0.1}) != RoutingConfig({"2": 0.2})
    assert RoutingConfig({"2": 0.1}) != RoutingConfig({"3": 0.1})
    assert _alias() == _alias()
    assert _alias() != _alias(routing_config=RoutingConfig({"2": 0.2}))
    assert len({_alias(), _alias(), _alias(description=None)}) == 2
    assert {RoutingConfig({"2": 0.1}): "a"}[RoutingConfig({"2": 0.1})] == "a"


@given(aliases, aliases)
def test_equal_values_hash_equal(a: AliasConfiguration, b: AliasConfiguration) -> None:
    copy = converter.structure(converter.unstructure(a), AliasConfiguration)
    assert copy == a
    assert hash(copy) == hash(a)
    if a == b:
        assert hash(a) == hash(b)

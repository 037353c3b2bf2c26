"""LocalLambda's pure state module (``lambdaclient.testing._state``), with no event loop.

The HTTP tests in ``test_local_lambda.py`` prove the server answers as AWS does; these pin the
rules themselves (alias targets, publishing, name resolution) one at a time, where a failure
names the rule rather than a request, and cover cases the client's own validation would never
let reach the server.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import botocore.session
import pytest

from lambdaclient.testing._state import (
    ALIAS_PATTERN,
    FUNCTION_NAME_PATTERN,
    NAMESPACED_FUNCTION_NAME_PATTERN,
    QUALIFIER_PATTERN,
    VERSION_PATTERN,
    Function,
    LambdaFault,
    LambdaState,
    Version,
    alias_problems,
    check,
    code_sha256,
    function_name_problems,
    not_found,
    qualifier_problems,
)

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = "arn:aws:iam::123456789012:role/app"
OTHER_ROLE = "arn:aws:iam::123456789012:role/other"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:dlq"


def handler_one(event: Any, context: Any) -> Any:
    return 1


def handler_two(event: Any, context: Any) -> Any:
    return 2


def latest(
    handler: Callable[..., Any] = handler_one,
    *,
    role: str = ROLE,
    description: str = "",
    dead_letter_target_arn: str | None = None,
    memory_size: int = 128,
    environment: Mapping[str, str] | None = None,
) -> Version:
    """A ``$LATEST`` as ``LocalLambda.add_function`` builds it."""
    return Version(
        "$LATEST",
        handler,
        role,
        description,
        dead_letter_target_arn,
        "python3.12",
        "index.handler",
        3,
        memory_size,
        dict(environment or {}),
        code_sha256(handler),
    )


def publish(state: LambdaState, function: Function, **kwargs: Any) -> Version:
    arguments: dict[str, Any] = {"description": None, "code_sha256": None, "revision_id": None}
    arguments.update(kwargs)
    return state.publish(function, **arguments)


@pytest.fixture
def state() -> LambdaState:
    return LambdaState(REGION, ACCOUNT)


@pytest.fixture
def fn(state: LambdaState) -> Function:
    """A function with versions 1 and 2 published (different code, same role, no DLQ)."""
    function = state.put_function("fn", latest(handler_one))
    publish(state, function)
    state.put_function("fn", latest(handler_two))
    publish(state, function)
    return function


def assert_fault(fault: LambdaFault, code: str, status: int) -> None:
    assert (fault.code, fault.status) == (code, status), fault


INVALID = ("InvalidParameterValueException", 400)
VALIDATION = ("ValidationException", 400)  # the model's constraints, checked before the rules
NOT_FOUND = ("ResourceNotFoundException", 404)
CONFLICT = ("ResourceConflictException", 409)
PRECONDITION = ("PreconditionFailedException", 412)


# --- alias rules, through create_alias ------------------------------------------------------


def test_create_alias_stores_the_alias_with_a_revision(state: LambdaState, fn: Function) -> None:
    alias = state.create_alias(fn, "live", "1", "desc", {"2": 0.25})
    assert (alias.name, alias.function_version, alias.description) == ("live", "1", "desc")
    assert alias.weights == {"2": 0.25}
    assert alias.revision_id
    assert state.alias(fn, "live") is alias


@pytest.mark.parametrize("weight", [0.0, 1.0])
def test_weights_at_the_bounds_are_accepted(
    state: LambdaState, fn: Function, weight: float
) -> None:
    assert state.create_alias(fn, "live", "1", "", {"2": weight}).weights == {"2": weight}


def test_latest_may_be_a_primary_without_weights(state: LambdaState, fn: Function) -> None:
    assert state.create_alias(fn, "dev", "$LATEST", "", {}).function_version == "$LATEST"


@pytest.mark.parametrize("name", ["123", "a.b", "", "x" * 129, "$LATEST"])
def test_an_invalid_alias_name_is_rejected(state: LambdaState, fn: Function, name: str) -> None:
    with pytest.raises(LambdaFault) as caught:
        state.create_alias(fn, name, "1", "", {})
    assert_fault(caught.value, *VALIDATION)


def test_an_alias_name_of_128_characters_is_accepted(state: LambdaState, fn: Function) -> None:
    assert state.create_alias(fn, "a" * 128, "1", "", {}).name == "a" * 128


def test_a_duplicate_alias_is_a_conflict(state: LambdaState, fn: Function) -> None:
    state.create_alias(fn, "live", "1", "", {})
    with pytest.raises(LambdaFault) as caught:
        state.create_alias(fn, "live", "2", "", {})
    assert_fault(caught.value, *CONFLICT)
    assert state.alias(fn, "live").function_version == "1"  # untouched


# Each case: primary version, weights, the fault expected.
ALIAS_TARGET_FAULTS: list[tuple[str, dict[str, float], tuple[str, int]]] = [
    ("live", {}, VALIDATION),  # the primary must be a version, not an alias
    ("9", {}, NOT_FOUND),  # the primary must exist
    ("$LATEST.PUBLISHED", {}, NOT_FOUND),  # valid shape, but no such version here
    ("1", {"2": 0.1, "3": 0.1}, INVALID),  # at most one additional version
    ("1", {"$LATEST": 0.1}, VALIDATION),  # the additional version must be a number
    ("1", {"live": 0.1}, VALIDATION),
    ("1", {"2": 1.5}, VALIDATION),  # weights in [0.0, 1.0]
    ("1", {"2": -0.1}, VALIDATION),
    ("1", {"2": math.nan}, VALIDATION),
    ("$LATEST", {"2": 0.1}, INVALID),  # no weights while the primary is $LATEST
    ("1", {"1": 0.1}, INVALID),  # the additional version is not the primary
    ("1", {"9": 0.1}, NOT_FOUND),  # the additional version must exist
]


@pytest.mark.parametrize(("primary", "weights", "expected"), ALIAS_TARGET_FAULTS)
def test_create_alias_enforces_the_routing_rules(
    state: LambdaState,
    fn: Function,
    primary: str,
    weights: dict[str, float],
    expected: tuple[str, int],
) -> None:
    with pytest.raises(LambdaFault) as caught:
        state.create_alias(fn, "live", primary, "", weights)
    assert_fault(caught.value, *expected)
    assert "live" not in fn.aliases  # nothing is created when a rule fails


def test_versions_with_different_roles_cannot_share_an_alias(state: LambdaState) -> None:
    function = state.put_function("fn", latest(handler_one, role=ROLE))
    publish(state, function)
    state.put_function("fn", latest(handler_one, role=OTHER_ROLE))
    assert publish(state, function).number == "2"
    with pytest.raises(LambdaFault) as caught:
        state.create_alias(function, "live", "1", "", {"2": 0.5})
    assert_fault(caught.value, *INVALID)
    assert "execution role" in caught.value.message


@pytest.mark.parametrize(
    ("first", "second"), [(None, QUEUE), (QUEUE, None), (QUEUE, QUEUE + "-other")]
)
def test_versions_with_different_dead_letter_targets_cannot_share_an_alias(
    state: LambdaState, first: str | None, second: str | None
) -> None:
    function = state.put_function("fn", latest(handler_one, dead_letter_target_arn=first))
    publish(state, function)
    state.put_function("fn", latest(handler_one, dead_letter_target_arn=second))
    publish(state, function)
    with pytest.raises(LambdaFault) as caught:
        state.create_alias(function, "live", "1", "", {"2": 0.5})
    assert_fault(caught.value, *INVALID)
    assert "dead-letter" in caught.value.message


def test_versions_with_the_same_dead_letter_target_can_share_an_alias(state: LambdaState) -> None:
    function = state.put_function("fn", latest(handler_one, dead_letter_target_arn=QUEUE))
    publish(state, function)
    state.put_function("fn", latest(handler_two, dead_letter_target_arn=QUEUE))
    publish(state, function)
    assert state.create_alias(function, "live", "1", "", {"2": 0.5}).weights == {"2": 0.5}


# --- alias rules, through update_alias ------------------------------------------------------


def update(state: LambdaState, function: Function, name: str, **kwargs: Any) -> Any:
    arguments: dict[str, Any] = {
        "function_version": None,
        "description": None,
        "weights": None,
        "revision_id": None,
    }
    arguments.update(kwargs)
    return state.update_alias(function, name, **arguments)


def test_update_changes_the_revision_every_time(state: LambdaState, fn: Function) -> None:
    alias = state.create_alias(fn, "live", "1", "", {})
    revisions = {alias.revision_id}
    for _ in range(3):
        revisions.add(update(state, fn, "live", description="same").revision_id)
    assert len(revisions) == 4


def test_update_keeps_what_it_is_not_given(state: LambdaState, fn: Function) -> None:
    state.create_alias(fn, "live", "1", "keep me", {"2": 0.25})
    alias = update(state, fn, "live", weights={"2": 0.5})
    assert (alias.function_version, alias.description, alias.weights) == (
        "1",
        "keep me",
        {"2": 0.5},
    )
    alias = update(state, fn, "live", description="new")
    assert (alias.function_version, alias.description, alias.weights) == ("1", "new", {"2": 0.5})


def test_update_with_empty_weights_clears_them(state: LambdaState, fn: Function) -> None:
    state.create_alias(fn, "live", "1", "", {"2": 0.25})
    assert update(state, fn, "live", function_version="2", weights={}).weights == {}


def test_update_with_the_right_revision_succeeds(state: LambdaState, fn: Function) -> None:
    alias = state.create_alias(fn, "live", "1", "", {})
    assert update(state, fn, "live", function_version="2", revision_id=alias.revision_id)


def test_update_with_a_stale_revision_fails_and_changes_nothing(
    state: LambdaState, fn: Function
) -> None:
    alias = state.create_alias(fn, "live", "1", "", {})
    stale = alias.revision_id
    current = update(state, fn, "live", description="x").revision_id
    with pytest.raises(LambdaFault) as caught:
        update(state, fn, "live", function_version="2", revision_id=stale)
    assert_fault(caught.value, *PRECONDITION)
    assert (alias.function_version, alias.revision_id) == ("1", current)


def test_update_checks_the_existing_weights_against_a_new_primary(
    state: LambdaState, fn: Function
) -> None:
    # Only the primary changes; the kept weights now name the primary itself.
    state.create_alias(fn, "live", "1", "", {"2": 0.25})
    with pytest.raises(LambdaFault) as caught:
        update(state, fn, "live", function_version="2")
    assert_fault(caught.value, *INVALID)


def test_update_adding_weights_to_a_latest_alias_fails_and_changes_nothing(
    state: LambdaState, fn: Function
) -> None:
    alias = state.create_alias(fn, "dev", "$LATEST", "", {})
    revision = alias.revision_id
    with pytest.raises(LambdaFault) as caught:
        update(state, fn, "dev", weights={"2": 0.5})
    assert_fault(caught.value, *INVALID)
    assert (alias.weights, alias.revision_id) == ({}, revision)


@pytest.mark.parametrize(("primary", "weights", "expected"), ALIAS_TARGET_FAULTS)
def test_update_alias_enforces_the_routing_rules(
    state: LambdaState,
    fn: Function,
    primary: str,
    weights: dict[str, float],
    expected: tuple[str, int],
) -> None:
    state.create_alias(fn, "live", "2", "", {})
    with pytest.raises(LambdaFault) as caught:
        update(state, fn, "live", function_version=primary, weights=weights)
    assert_fault(caught.value, *expected)
    assert state.alias(fn, "live").function_version == "2"


def test_update_of_an_unknown_alias_is_not_found_in_updatealias_words(
    state: LambdaState, fn: Function
) -> None:
    with pytest.raises(LambdaFault) as caught:
        update(state, fn, "nope", description="x")
    assert_fault(caught.value, *NOT_FOUND)
    assert caught.value.message == f"Alias not found: {ARN}:nope"


def test_delete_of_an_unknown_alias_succeeds_and_changes_nothing(
    state: LambdaState, fn: Function
) -> None:
    state.create_alias(fn, "live", "1", "", {})
    state.delete_alias(fn, "nope")
    assert list(fn.aliases) == ["live"]


def test_delete_alias_removes_it(state: LambdaState, fn: Function) -> None:
    state.create_alias(fn, "live", "1", "", {})
    state.delete_alias(fn, "live")
    with pytest.raises(LambdaFault) as caught:
        state.alias(fn, "live")
    assert_fault(caught.value, *NOT_FOUND)
    # The name is free again.
    assert state.create_alias(fn, "live", "2", "", {}).function_version == "2"


# --- publishing ----------------------------------------------------------------------------


def test_publish_numbers_versions_and_snapshots_latest(state: LambdaState) -> None:
    function = state.put_function("fn", latest(handler_one, memory_size=256))
    first = publish(state, function)
    assert first.number == "1"
    assert (first.handler, first.memory_size) == (handler_one, 256)
    state.put_function("fn", latest(handler_two, memory_size=512))
    second = publish(state, function)
    assert second.number == "2"
    # The first version is frozen: replacing $LATEST did not touch it.
    assert (state.version(function, "1").handler, state.version(function, "1").memory_size) == (
        handler_one,
        256,
    )
    assert state.version(function, "2").handler is handler_two
    assert function.latest.number == "$LATEST"


def test_publish_without_a_change_returns_the_last_version(state: LambdaState) -> None:
    function = state.put_function("fn", latest(handler_one))
    first = publish(state, function)
    assert publish(state, function) is first
    # Re-registering the same code and configuration is no change either.
    state.put_function("fn", latest(handler_one))
    assert publish(state, function) is first
    assert list(function.versions) == ["1"]


@pytest.mark.parametrize(
    "change",
    [
        {"role": OTHER_ROLE},
        {"description": "new"},
        {"dead_letter_target_arn": QUEUE},
        {"memory_size": 1024},
        {"environment": {"A": "1"}},
    ],
)
def test_a_configuration_change_publishes_a_new_version(
    state: LambdaState, change: dict[str, Any]
) -> None:
    function = state.put_function("fn", latest(handler_one))
    publish(state, function)
    state.put_function("fn", latest(handler_one, **change))
    assert publish(state, function).number == "2"


def test_a_description_alone_publishes_nothing_new(state: LambdaState) -> None:
    # AWS's test_version_lifecycle: with $LATEST unchanged, a publish with another
    # Description returns the last version as it was.
    function = state.put_function("fn", latest(handler_one, description="function"))
    first = publish(state, function, description="release notes")
    assert (first.number, first.description) == ("1", "release notes")
    assert function.latest.description == "function"  # $LATEST keeps its own
    again = publish(state, function, description="other notes")
    assert again is first
    assert (again.number, again.description) == ("1", "release notes")
    assert list(function.versions) == ["1"]


def test_a_change_to_latest_after_a_description_override_publishes_a_new_version(
    state: LambdaState,
) -> None:
    # The last version's own description differs from $LATEST's; only a change to $LATEST
    # makes the next publish new.
    function = state.put_function("fn", latest(handler_one, description="first"))
    publish(state, function, description="release notes")
    state.put_function("fn", latest(handler_one, description="second"))
    second = publish(state, function)
    assert (second.number, second.description) == ("2", "second")


def test_publish_twice_with_the_same_description_and_no_change_is_one_version(
    state: LambdaState,
) -> None:
    # A deploy pipeline that publishes with Description=<commit> and is re-run: "Lambda doesn't
    # publish a version if the function's configuration and code haven't changed since the
    # last version" (PublishVersion documentation).
    function = state.put_function("fn", latest(handler_one))
    first = publish(state, function, description="commit abc123")
    assert publish(state, function, description="commit abc123") is first


def test_publish_gives_each_version_its_own_revision(state: LambdaState) -> None:
    function = state.put_function("fn", latest(handler_one))
    version = publish(state, function)
    assert version.revision_id != function.latest.revision_id


def test_publish_with_a_stale_revision_id_is_a_precondition_failure(state: LambdaState) -> None:
    function = state.put_function("fn", latest(handler_one))
    stale = function.latest.revision_id
    state.put_function("fn", latest(handler_two))  # as UpdateFunctionCode: a new revision
    with pytest.raises(LambdaFault) as caught:
        publish(state, function, revision_id=stale)
    assert_fault(caught.value, *PRECONDITION)
    assert function.versions == {}
    assert publish(state, function, revision_id=function.latest.revision_id).number == "1"


def test_publish_with_another_code_sha256_is_invalid(state: LambdaState) -> None:
    function = state.put_function("fn", latest(handler_one))
    with pytest.raises(LambdaFault) as caught:
        publish(state, function, code_sha256=code_sha256(handler_two))
    assert_fault(caught.value, *INVALID)
    assert function.versions == {}
    assert publish(state, function, code_sha256=code_sha256(handler_one)).number == "1"


def test_code_sha256_is_stable_per_handler() -> None:
    assert code_sha256(handler_one) == code_sha256(handler_one)
    assert code_sha256(handler_one) != code_sha256(handler_two)


# --- resolving names and ARNs -------------------------------------------------------------


ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn"


@pytest.mark.parametrize(
    ("ref", "qualifier"),
    [
        ("fn", None),
        ("fn:live", "live"),
        ("fn:1", "1"),
        ("fn:$LATEST", "$LATEST"),
        (f"{ACCOUNT}:function:fn", None),
        (f"{ACCOUNT}:function:fn:live", "live"),
        (ARN, None),
        (f"{ARN}:7", "7"),
        (f"{ARN}:$LATEST", "$LATEST"),
    ],
)
def test_resolve_names_partial_arns_and_arns(
    state: LambdaState, fn: Function, ref: str, qualifier: str | None
) -> None:
    assert state.resolve(ref) == (fn, qualifier)


@pytest.mark.parametrize(
    "ref",
    [
        "other",
        "999999999999:function:fn",
        "arn:aws:lambda:us-east-1:999999999999:function:fn",
        "arn:aws:lambda:us-east-1:999999999999:function:fn:live",
    ],
)
def test_resolve_an_unknown_function_or_another_account_is_not_found(
    state: LambdaState, fn: Function, ref: str
) -> None:
    with pytest.raises(LambdaFault) as caught:
        state.resolve(ref)
    assert_fault(caught.value, *NOT_FOUND)


@pytest.mark.parametrize("ref", ["", "fn name", "fn:", "fn:a:b", "arn:aws:s3:::bucket"])
def test_resolve_a_malformed_name_is_a_validation_error(
    state: LambdaState, fn: Function, ref: str
) -> None:
    with pytest.raises(LambdaFault) as caught:
        state.resolve(ref)
    assert_fault(caught.value, *VALIDATION)
    assert not caught.value.typed  # the front end's error carries no "Type"


def test_a_dotted_name_is_valid_only_where_the_model_allows_dots(state: LambdaState) -> None:
    # NamespacedFunctionName (invoke, configuration) allows dots; FunctionName (aliases,
    # PublishVersion) does not.
    with pytest.raises(LambdaFault) as caught:
        state.resolve("fn.v2")
    assert_fault(caught.value, *NOT_FOUND)
    with pytest.raises(LambdaFault) as caught:
        state.resolve("fn.v2", namespaced=False)
    assert_fault(caught.value, *VALIDATION)


def test_an_unknown_function_is_reported_with_the_qualifier_asked_for(
    state: LambdaState, fn: Function
) -> None:
    with pytest.raises(LambdaFault) as caught:
        state.resolve("other", missing_qualifier="$LATEST")
    assert caught.value.message == f"Function not found: {ARN[:-2]}other:$LATEST"
    with pytest.raises(LambdaFault) as caught:
        state.resolve("other:live", missing_qualifier="$LATEST")
    assert caught.value.message == f"Function not found: {ARN[:-2]}other:live"


# --- ValidationException messages, as AWS's recorded responses word them ----------------------

RECORDED_VALIDATION_MESSAGES: list[tuple[dict[str, Any], str]] = [
    # test_notfound_and_invalid_routingconfigs: routing_config_exc_toohigh
    (
        {"weights": {"2": 2}},
        "1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights'"
        " failed to satisfy constraint: Map value must satisfy constraint: [Member must have"
        " value less than or equal to 1.0, Member must have value greater than or equal to 0.0,"
        " Member must not be null]",
    ),
    # routing_config_exc_subzero
    (
        {"weights": {"2": -1}},
        "1 validation error detected: Value '{2=-1.0}' at 'routingConfig.additionalVersionWeights'"
        " failed to satisfy constraint: Map value must satisfy constraint: [Member must have"
        " value less than or equal to 1.0, Member must have value greater than or equal to 0.0,"
        " Member must not be null]",
    ),
    # routing_config_exc_version_latest
    (
        {"weights": {"$LATEST": 0.5}},
        "1 validation error detected: Value '{$LATEST=0.5}' at"
        " 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must"
        " satisfy constraint: [Member must have length less than or equal to 1024, Member must"
        " have length greater than or equal to 1, Member must satisfy regular expression"
        " pattern: [0-9]+]",
    ),
    # test_alias_naming: create_alias_number_exception
    (
        {"name": "2024"},
        "1 validation error detected: Value '2024' at 'name' failed to satisfy constraint:"
        " Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
    ),
]


@pytest.mark.parametrize(("request_fields", "message"), RECORDED_VALIDATION_MESSAGES)
def test_validation_messages_are_aws_recorded_words(
    request_fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(LambdaFault) as caught:
        check(alias_problems(**request_fields))
    assert_fault(caught.value, *VALIDATION)
    assert caught.value.message == message


def test_function_name_and_qualifier_problems_are_counted_together() -> None:
    # test_function_name_and_qualifier_validation: the qualifier's problem comes first.
    problems = [*qualifier_problems("a" * 129), *function_name_problems("fn!", namespaced=True)]
    with pytest.raises(LambdaFault) as caught:
        check(problems)
    message = caught.value.message
    assert message.startswith(
        f"2 validation errors detected: Value '{'a' * 129}' at 'qualifier' failed to satisfy"
        " constraint: Member must have length less than or equal to 128; Value 'fn!' at"
        " 'functionName' failed to satisfy constraint: Member must satisfy regular expression"
        " pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?"
    )


def test_the_validation_patterns_accept_what_the_service_model_accepts() -> None:
    # The quoted patterns are AWS's words; what they accept must stay botocore's model's.
    model = botocore.session.get_session().get_service_model("lambda")
    pairs = [
        ("FunctionName", FUNCTION_NAME_PATTERN),
        ("NamespacedFunctionName", NAMESPACED_FUNCTION_NAME_PATTERN),
        ("Alias", ALIAS_PATTERN),
        ("VersionWithLatestPublished", VERSION_PATTERN),
        ("NumericLatestPublishedOrAliasQualifier", QUALIFIER_PATTERN),
    ]
    samples = [
        "fn",
        "fn.v2",
        "fn:live",
        "fn:$LATEST",
        "fn:$LATEST.PUBLISHED",
        "1",
        "123",
        "$LATEST",
        "a-b_c",
        "fn!",
        "",
        "fn:a:b",
        f"{ARN}",
        f"{ARN}:7",
        "123456789012:function:fn",
        "arn:aws:lambda:eu-west-1:123456789012:function:fn",
        "$latest",
        "a$b",
    ]
    for shape, pattern in pairs:
        model_pattern = model.shape_for(shape).metadata["pattern"]
        for sample in samples:
            ours = re.fullmatch(pattern, sample, re.ASCII) is not None
            theirs = re.fullmatch(model_pattern, sample, re.ASCII) is not None
            assert ours == theirs, (shape, sample)


def test_function_arn(state: LambdaState) -> None:
    assert state.function_arn("fn") == ARN
    assert state.function_arn("fn", "live") == f"{ARN}:live"


# --- what a qualifier names ---------------------------------------------------------------


def test_target_of_no_qualifier_or_latest_is_latest(state: LambdaState, fn: Function) -> None:
    assert state.target(fn, None) == (fn.latest, None)
    assert state.target(fn, "$LATEST") == (fn.latest, None)


def test_target_of_a_version_number(state: LambdaState, fn: Function) -> None:
    assert state.target(fn, "2") == (fn.versions["2"], None)


def test_target_of_an_alias_is_its_primary_version(state: LambdaState, fn: Function) -> None:
    alias = state.create_alias(fn, "live", "1", "", {"2": 0.5})
    version, found = state.target(fn, "live")
    assert (version, found) == (fn.versions["1"], alias)


@pytest.mark.parametrize("qualifier", ["9", "nope", "$LATEST.PUBLISHED"])
def test_target_of_an_unknown_qualifier_is_not_found(
    state: LambdaState, fn: Function, qualifier: str
) -> None:
    with pytest.raises(LambdaFault) as caught:
        state.target(fn, qualifier)
    assert_fault(caught.value, *NOT_FOUND)
    assert qualifier in caught.value.message  # the message names the qualified ARN


# --- faults: what each carries ------------------------------------------------------------


def test_lambda_fault_carries_code_status_message_fields_and_headers() -> None:
    fault = LambdaFault(
        "TooManyRequestsException",
        429,
        "Rate exceeded",
        fields={"Reason": "CallerRateLimitExceeded"},
        headers={"Retry-After": "1"},
    )
    assert (fault.code, fault.status, fault.message) == (
        "TooManyRequestsException",
        429,
        "Rate exceeded",
    )
    assert fault.fields == {"Reason": "CallerRateLimitExceeded"}
    assert fault.headers == {"Retry-After": "1"}
    assert str(fault) == "TooManyRequestsException: Rate exceeded"
    assert_fault(not_found("gone"), *NOT_FOUND)

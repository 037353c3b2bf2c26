"""Waiting for versions and updates: the pure decisions (no event loop), then the waits over
real sockets against LocalLambda, with boto3 as the independent oracle for what the server
answers."""

from __future__ import annotations

import math

import pytest

from lambdaclient import FunctionConfiguration, ValidationError
from lambdaclient._waiters import (
    Progress,
    check_wait_arguments,
    function_updated_progress,
    version_active_progress,
    waiter_error,
)

# --------------------------------------------------------------------------------------------
# The decisions, pure
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "last_update_status", "expected"),
    [
        ("Active", "Successful", Progress.DONE),
        ("Active", None, Progress.DONE),
        ("Active", "Failed", Progress.DONE),
        ("Active", "InProgress", Progress.WAITING),
        ("Pending", None, Progress.WAITING),
        ("Inactive", "Successful", Progress.WAITING),
        (None, None, Progress.WAITING),
        ("ActiveNonInvocable", "Successful", Progress.WAITING),
        ("Failed", None, Progress.FAILED),
        ("Failed", "InProgress", Progress.FAILED),
    ],
)
def test_version_active_progress(
    state: str | None, last_update_status: str | None, expected: Progress
) -> None:
    configuration = FunctionConfiguration(state=state, last_update_status=last_update_status)
    assert version_active_progress(configuration) is expected


@pytest.mark.parametrize(
    ("state", "last_update_status", "expected"),
    [
        ("Active", "Successful", Progress.DONE),
        ("Pending", "Successful", Progress.DONE),
        ("Active", "InProgress", Progress.WAITING),
        ("Active", None, Progress.WAITING),
        ("Active", "SomethingNew", Progress.WAITING),
        ("Active", "Failed", Progress.FAILED),
        ("Failed", "Failed", Progress.FAILED),
    ],
)
def test_function_updated_progress(
    state: str | None, last_update_status: str | None, expected: Progress
) -> None:
    configuration = FunctionConfiguration(state=state, last_update_status=last_update_status)
    assert function_updated_progress(configuration) is expected


@pytest.mark.parametrize(
    ("delay", "timeout", "field"),
    [
        (0, 10, "delay"),
        (-1, 10, "delay"),
        (math.inf, 10, "delay"),
        (math.nan, 10, "delay"),
        (True, 10, "delay"),
        ("5", 10, "delay"),
        (1, -0.5, "timeout"),
        (1, math.inf, "timeout"),
        (1, math.nan, "timeout"),
        (1, None, "timeout"),
    ],
)
def test_bad_wait_arguments_name_the_argument(delay: object, timeout: object, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_wait_arguments(delay, timeout)
    assert caught.value.field == field
    assert field in str(caught.value)


def test_wait_arguments_as_floats() -> None:
    assert check_wait_arguments(2, 0) == (2.0, 0.0)


def test_a_failure_carries_the_reason() -> None:
    configuration = FunctionConfiguration(
        state="Failed",
        state_reason="The function's role lacks permissions.",
        state_reason_code="InsufficientRolePermissions",
    )
    error = waiter_error(
        configuration,
        function_name="fn",
        qualifier="3",
        awaited="State Active",
        waited=10.0,
        timed_out=False,
    )
    assert (error.state, error.state_reason, error.state_reason_code) == (
        "Failed",
        "The function's role lacks permissions.",
        "InsufficientRolePermissions",
    )
    assert not error.timed_out
    assert "fn:3" in str(error)
    assert "InsufficientRolePermissions" in str(error)
    assert "The function's role lacks permissions." in str(error)


def test_a_timeout_says_the_last_state_and_how_long() -> None:
    configuration = FunctionConfiguration(
        state="Active",
        last_update_status="InProgress",
        last_update_status_reason="The function is being created.",
        last_update_status_reason_code="Creating",
    )
    error = waiter_error(
        configuration,
        function_name="fn",
        qualifier=None,
        awaited="LastUpdateStatus Successful",
        waited=2.5,
        timed_out=True,
    )
    assert error.timed_out
    assert error.waited == 2.5
    assert (error.last_update_status, error.last_update_status_reason_code) == (
        "InProgress",
        "Creating",
    )
    assert "2.5s" in str(error)
    assert "LastUpdateStatus InProgress" in str(error)

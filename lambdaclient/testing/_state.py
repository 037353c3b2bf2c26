"""LocalLambda's state and Lambda's rules over it, with no I/O: functions, their published
versions and their aliases, and the checks AWS makes before it changes any of them.

Every rule violation raises :class:`LambdaFault` carrying the error code, status and message
AWS would send, so the HTTP layer only has to serialise it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from ._runtime import Handler
from ._zip import Package

__all__ = [
    "ALIAS_PATTERN",
    "CREATING",
    "FUNCTION_NAME_PATTERN",
    "NAMESPACED_FUNCTION_NAME_PATTERN",
    "PYTHON_RUNTIMES",
    "QUALIFIER_PATTERN",
    "ROLE_PATTERN",
    "SETTABLE_STATES",
    "VERSION_PATTERN",
    "Alias",
    "Function",
    "LambdaFault",
    "LambdaState",
    "Version",
    "alias_problems",
    "check",
    "check_runtime",
    "description_problems",
    "function_name_problems",
    "not_found",
    "problem",
    "qualifier_problems",
    "validation",
]

SETTABLE_STATES = ("Active", "Failed", "Inactive")
# What AWS reports for a version being created (LocalStack's AWS-validated snapshots of
# CreateFunction and UpdateFunctionCode with Publish=True).
CREATING = ("The function is being created.", "Creating")

# The service model's constraints, quoted in ValidationException messages as AWS words them
# (LocalStack's AWS-validated snapshots: test_alias_naming, test_function_name_and_qualifier_
# validation, test_notfound_and_invalid_routingconfigs).
_REGION = r"((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
FUNCTION_NAME_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?" + _REGION + r"(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)"
    r"(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)
NAMESPACED_FUNCTION_NAME_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?" + _REGION + r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)"
    r"(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
ALIAS_PATTERN = r"(?!^[0-9]+$)([a-zA-Z0-9-_]+)"
VERSION_PATTERN = r"(\$LATEST(\.PUBLISHED)?|[0-9]+)"
QUALIFIER_PATTERN = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"
ADDITIONAL_VERSION_PATTERN = "[0-9]+"
_WEIGHT_CONSTRAINT = (
    "Map value must satisfy constraint: [Member must have value less than or equal to 1.0,"
    " Member must have value greater than or equal to 0.0, Member must not be null]"
)
_ADDITIONAL_VERSION_CONSTRAINT = (
    "Map keys must satisfy constraint: [Member must have length less than or equal to 1024,"
    " Member must have length greater than or equal to 1, Member must satisfy regular"
    f" expression pattern: {ADDITIONAL_VERSION_PATTERN}]"
)
_ADDITIONAL_VERSION = re.compile(ADDITIONAL_VERSION_PATTERN)
# The same names as NAMESPACED_FUNCTION_NAME_PATTERN, with the parts named.
_FUNCTION_REF = re.compile(
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?(?P<region>(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(?P<account>\d{12}:)?(function:)?(?P<name>[a-zA-Z0-9-_\.]+)"
    r"(:(?P<qualifier>\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?",
    re.ASCII,
)


ROLE_PATTERN = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
# The runtimes LocalLambda runs (in its own Python, whichever version that is).
PYTHON_RUNTIMES = (
    "python3.8",
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
)
# What AWS accepts, in the order it lists them (test_create_lambda_exceptions:
# invalid_runtime_exc), and what it refuses as deprecated
# (test_create_deprecated_function_runtime_with_validation_enabled).
_ACCEPTED_RUNTIMES = (
    "nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x,"
    " java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9,"
    " java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2"
)
_DEPRECATED_RUNTIMES = frozenset(
    {
        *("nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x"),
        *("nodejs12.x", "nodejs14.x", "java8", "python2.7", "python3.6", "python3.7"),
        *("dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1", "go1.x"),
        *("ruby2.5", "ruby2.7", "provided"),
    }
)


def check_runtime(runtime: str) -> None:
    """Refuse a runtime LocalLambda cannot run with 400 InvalidParameterValueException: in
    AWS's words for one that does not exist or is deprecated, in LocalLambda's own for one
    AWS runs and it does not (Node.js, Java, ...)."""
    if runtime in PYTHON_RUNTIMES:
        return
    if runtime in _DEPRECATED_RUNTIMES:
        raise invalid(
            f"The runtime parameter of {runtime} is no longer supported for creating or updating"
            " AWS Lambda functions. We recommend you use a supported runtime while creating or"
            " updating functions."
        )
    # ruby4.0 is in botocore's model, newer than the recorded list.
    if runtime in _ACCEPTED_RUNTIMES.split(", ") or runtime == "ruby4.0":
        raise invalid(
            f"LocalLambda runs Python functions only ({', '.join(PYTHON_RUNTIMES)});"
            f" it cannot run {runtime}."
        )
    raise invalid(
        f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum"
        f" value set: [{_ACCEPTED_RUNTIMES}] or be a valid ARN"
    )


class LambdaFault(Exception):
    """An error response as AWS would send it: ``fields`` go into the JSON body beside the
    message, ``headers`` onto the response."""

    def __init__(
        self,
        code: str,
        status: int,
        message: str,
        *,
        fields: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        typed: bool = True,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.status = status
        self.message = message
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})
        # Lambda's own errors carry "Type" (User or Service); the front end's
        # ValidationException does not.
        self.typed = typed


def invalid(message: str) -> LambdaFault:
    return LambdaFault("InvalidParameterValueException", 400, message)


def not_found(message: str) -> LambdaFault:
    return LambdaFault("ResourceNotFoundException", 404, message)


def validation(problems: Sequence[str]) -> LambdaFault:
    """The ValidationException AWS answers, before any other check, for input that breaks
    the service model's constraints (pattern, length, range)."""
    count = len(problems)
    head = "1 validation error detected" if count == 1 else f"{count} validation errors detected"
    return LambdaFault("ValidationException", 400, f"{head}: {'; '.join(problems)}", typed=False)


def check(problems: Sequence[str]) -> None:
    """Raise :func:`validation` if there are any problems."""
    if problems:
        raise validation(problems)


def problem(value: object, field: str, constraint: str) -> str:
    """One ValidationException problem, in AWS's words."""
    return f"Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"


def string_problems(
    value: str | None, field: str, max_length: int, pattern: str | None, *, min_length: int = 1
) -> list[str]:
    """What is wrong with a string member: its length, then its pattern."""
    if value is None:
        return []
    if len(value) > max_length:
        return [
            problem(value, field, f"Member must have length less than or equal to {max_length}")
        ]
    if len(value) < min_length:
        return [
            problem(value, field, f"Member must have length greater than or equal to {min_length}")
        ]
    if pattern is not None and re.fullmatch(pattern, value, re.ASCII) is None:
        return [problem(value, field, f"Member must satisfy regular expression pattern: {pattern}")]
    return []


def function_name_problems(ref: str, *, namespaced: bool) -> list[str]:
    """FunctionName (alias operations, PublishVersion: at most 140 characters, no dots) or
    NamespacedFunctionName (invoke, versions, configuration: 256, dots allowed)."""
    if namespaced:
        return string_problems(ref, "functionName", 256, NAMESPACED_FUNCTION_NAME_PATTERN)
    return string_problems(ref, "functionName", 140, FUNCTION_NAME_PATTERN)


def qualifier_problems(qualifier: str | None) -> list[str]:
    return string_problems(qualifier, "qualifier", 128, QUALIFIER_PATTERN)


def description_problems(description: str | None) -> list[str]:
    return string_problems(description, "description", 256, None, min_length=0)


def _java_map(weights: Mapping[str, float]) -> str:
    # As the service prints the map it rejects: {2=2.0}
    return "{" + ", ".join(f"{key}={float(value)!r}" for key, value in weights.items()) + "}"


def alias_problems(
    *,
    name: str | None = None,
    function_version: str | None = None,
    description: str | None = None,
    weights: Mapping[str, float] | None = None,
) -> list[str]:
    """What breaks the model's constraints in an alias request, in AWS's order."""
    problems = [
        *string_problems(name, "name", 128, ALIAS_PATTERN),
        *string_problems(function_version, "functionVersion", 1024, VERSION_PATTERN),
        *description_problems(description),
    ]
    if weights:
        field = "routingConfig.additionalVersionWeights"
        if not all(_ADDITIONAL_VERSION.fullmatch(key) for key in weights):
            problems.append(problem(_java_map(weights), field, _ADDITIONAL_VERSION_CONSTRAINT))
        if not all(0.0 <= value <= 1.0 for value in weights.values()):
            problems.append(problem(_java_map(weights), field, _WEIGHT_CONSTRAINT))
    return problems


def _stale_revision() -> LambdaFault:
    # The same words for PublishVersion and UpdateAlias (test_function_revisions_version_and_alias).
    return LambdaFault(
        "PreconditionFailedException",
        412,
        "The Revision Id provided does not match the latest Revision Id. Call the"
        " GetFunction/GetAlias API to retrieve the latest Revision Id",
    )


def _now() -> str:
    # Lambda's LastModified format: 2026-11-25T02:38:15.123+0000
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


def _revision() -> str:
    return str(uuid.uuid4())


def code_sha256(handler: Handler) -> str:
    """A stand-in for the code's hash: the same handler gives the same value."""
    name = f"{getattr(handler, '__module__', '')}.{getattr(handler, '__qualname__', repr(handler))}"
    digest = hashlib.sha256(f"{name}#{id(handler)}".encode()).digest()
    return base64.b64encode(digest).decode()


@attrs.define
class Version:
    """A function's code and configuration: ``$LATEST`` or a published, frozen snapshot."""

    number: str
    # A handler registered from Python, or None for a zip package (``package``).
    handler: Handler | None
    role: str
    description: str
    dead_letter_target_arn: str | None
    runtime: str
    handler_name: str
    timeout: int
    memory_size: int
    environment: dict[str, str]
    code_sha256: str
    revision_id: str = attrs.Factory(_revision)
    last_modified: str = attrs.Factory(_now)
    # Lambda's State of the version, and when (a monotonic time) a Pending one turns Active.
    state: str = "Active"
    state_reason: str | None = None
    state_reason_code: str | None = None
    active_at: float | None = None
    package: Package | None = None

    def put_state(
        self,
        state: str,
        reason: str | None = None,
        reason_code: str | None = None,
        active_at: float | None = None,
    ) -> None:
        self.state = state
        self.state_reason = reason
        self.state_reason_code = reason_code
        self.active_at = active_at

    def settle(self, now: float) -> Version:
        """The version, Active if it was Pending and its time has come."""
        if self.state == "Pending" and self.active_at is not None and now >= self.active_at:
            self.put_state("Active")
        return self

    def same_code_and_config(self, other: Version) -> bool:
        return (
            self.handler is other.handler
            and self.code_sha256 == other.code_sha256
            and self.role == other.role
            and self.description == other.description
            and self.dead_letter_target_arn == other.dead_letter_target_arn
            and self.runtime == other.runtime
            and self.handler_name == other.handler_name
            and self.timeout == other.timeout
            and self.memory_size == other.memory_size
            and self.environment == other.environment
        )


@attrs.define
class Alias:
    name: str
    function_version: str
    description: str
    weights: dict[str, float]
    revision_id: str = attrs.Factory(_revision)


@attrs.define
class Function:
    name: str
    latest: Version
    versions: dict[str, Version] = attrs.Factory(dict)  # published, in order
    aliases: dict[str, Alias] = attrs.Factory(dict)
    last_published: int = 0
    # The $LATEST the last version was published from: publishing again without a change to
    # it returns that version.
    published_from: Version | None = None


@attrs.define
class LambdaState:
    """Every function of one account and region."""

    region: str
    account_id: str
    functions: dict[str, Function] = attrs.Factory(dict)

    # --- names and ARNs ----------------------------------------------------------------------

    def function_arn(self, name: str, qualifier: str | None = None) -> str:
        arn = f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"
        return arn if qualifier is None else f"{arn}:{qualifier}"

    def resolve(
        self, ref: str, *, namespaced: bool = True, missing_qualifier: str | None = None
    ) -> tuple[Function, str | None]:
        """The function a name or ARN names, and the qualifier it carries, if any.

        A function that does not exist is reported with ``missing_qualifier`` on its ARN when
        the name carries none, as AWS reports it (Invoke names ``$LATEST``, CreateAlias the
        alias's version)."""
        check(function_name_problems(ref, namespaced=namespaced))
        match = _FUNCTION_REF.fullmatch(ref)
        assert match is not None  # the pattern above accepts only what this regex parses
        region = match["region"]
        if region is not None and region[:-1] != self.region:
            raise not_found(
                f"Functions from '{region[:-1]}' are not reachable in this region ('{self.region}')"
            )
        function = self.functions.get(match["name"])
        if function is None or (
            match["account"] is not None and match["account"][:-1] != self.account_id
        ):
            qualifier = match["qualifier"] or missing_qualifier
            raise not_found(f"Function not found: {self.function_arn(match['name'], qualifier)}")
        return function, match["qualifier"]

    def version(self, function: Function, number: str) -> Version:
        if number == "$LATEST":
            return function.latest
        version = function.versions.get(number)
        if version is None:
            raise not_found(f"Function not found: {self.function_arn(function.name, number)}")
        return version

    def target(self, function: Function, qualifier: str | None) -> tuple[Version, Alias | None]:
        """What a qualifier names: ``$LATEST``, a version or an alias (and then the alias)."""
        if qualifier is None or qualifier == "$LATEST":
            return function.latest, None
        if _ADDITIONAL_VERSION.fullmatch(qualifier):
            return self.version(function, qualifier), None
        alias = function.aliases.get(qualifier)
        if alias is None:
            raise not_found(f"Function not found: {self.function_arn(function.name, qualifier)}")
        return self.version(function, alias.function_version), alias

    # --- functions and versions --------------------------------------------------------------

    def put_function(self, name: str, latest: Version) -> Function:
        function = self.functions.get(name)
        if function is None:
            function = self.functions[name] = Function(name, latest)
        else:
            function.latest = latest  # as UpdateFunctionCode / UpdateFunctionConfiguration
        return function

    def create_function(self, name: str, latest: Version) -> Function:
        """Add a function created over the wire; one of that name is a 409."""
        if name in self.functions:
            # AWS's words, as its SDKs' users quote them (not in a recorded snapshot).
            raise LambdaFault("ResourceConflictException", 409, f"Function already exist: {name}")
        return self.put_function(name, latest)

    def update_latest(self, function: Function, revision_id: str | None, **changes: Any) -> Version:
        """Replace ``$LATEST`` with ``changes`` (UpdateFunctionCode, UpdateFunctionConfiguration):
        a new ``RevisionId`` and ``LastModified``; a stale ``revision_id`` is a 412."""
        if revision_id is not None and revision_id != function.latest.revision_id:
            raise _stale_revision()
        function.latest = attrs.evolve(
            function.latest, **changes, revision_id=_revision(), last_modified=_now()
        )
        return function.latest

    def delete_function(self, function: Function, qualifier: str | None) -> None:
        """Delete a function, or one published version of it (``qualifier``). A version that
        does not exist is deleted too (test_delete_on_nonexisting_version answers 204); an
        alias cannot be named (test_function_name_and_qualifier_validation: "Deletion of
        aliases is not currently supported."), nor ``$LATEST`` alone
        (test_ops_with_arn_qualifier_mismatch)."""
        if qualifier is None:
            del self.functions[function.name]
            return
        if qualifier == "$LATEST":
            raise invalid("$LATEST version cannot be deleted without deleting the function.")
        if not _ADDITIONAL_VERSION.fullmatch(qualifier):
            raise invalid("Deletion of aliases is not currently supported.")
        users = [
            alias.name
            for alias in function.aliases.values()
            if qualifier == alias.function_version or qualifier in alias.weights
        ]
        if users:
            # Not recorded; the words AWS answers, as its users quote them.
            raise LambdaFault(
                "ResourceConflictException",
                409,
                "Unable to delete version because the following aliases reference it:"
                f" [{', '.join(users)}]",
            )
        function.versions.pop(qualifier, None)

    def publish(
        self,
        function: Function,
        *,
        description: str | None,
        code_sha256: str | None,
        revision_id: str | None,
        now: float = 0.0,
        activation_delay: float = 0.0,
    ) -> Version:
        """Publish ``$LATEST`` as a new version, ``Pending`` for ``activation_delay`` seconds
        after ``now`` (a monotonic time), then ``Active``.

        As on AWS, a version is new only when ``$LATEST``'s code or configuration changed
        since the last version was published; otherwise the last version is returned as it
        is, whatever ``description`` asks (test_version_lifecycle: a publish with only a new
        Description returns the last version)."""
        check(description_problems(description))
        latest = function.latest
        if revision_id is not None and revision_id != latest.revision_id:
            raise _stale_revision()
        if code_sha256 is not None and code_sha256 != latest.code_sha256:
            raise invalid(
                f"CodeSHA256 ({code_sha256}) is different from current CodeSHA256 in $LATEST"
                f" ({latest.code_sha256}). Please try again with the CodeSHA256 in $LATEST."
            )
        last = function.versions.get(str(function.last_published))
        # "Lambda doesn't publish a version if the function's configuration and code haven't
        # changed since the last version."
        if (
            last is not None
            and function.published_from is not None
            and function.published_from.same_code_and_config(latest)
        ):
            return last
        function.published_from = latest
        function.last_published += 1
        number = str(function.last_published)
        version = attrs.evolve(
            latest,
            number=number,
            description=latest.description if description is None else description,
            revision_id=_revision(),
            last_modified=_now(),
        )
        # A new version is readied afresh, whatever state $LATEST was put in.
        version.put_state("Active")
        if activation_delay > 0:
            version.put_state("Pending", *CREATING, active_at=now + activation_delay)
        function.versions[number] = version
        return version

    def check_invocable(self, version: Version, *, now: float, activation_delay: float) -> None:
        """Raise the 409 AWS answers when ``version`` is not Active. Invoking an Inactive
        version starts its restoration: it is Pending for ``activation_delay``, as Lambda
        "sets the function to pending state until the function resources are recreated"."""
        state = version.settle(now).state
        if state == "Active":
            return
        if state == "Inactive":
            version.put_state(
                "Pending",
                "The function is being restored.",
                "Restoring",
                active_at=now + activation_delay,
            )
        raise LambdaFault(
            "ResourceConflictException",
            409,
            "The operation cannot be performed at this time. The function is currently in the"
            f" following state: {state}",
        )

    # --- aliases ------------------------------------------------------------------------------

    def _check_alias_target(
        self, function: Function, primary: str, weights: Mapping[str, float]
    ) -> None:
        primary_version = self.version(function, primary)
        if len(weights) > 1:
            raise invalid("Number of items in AdditionalVersionWeights cannot be greater than 1")
        for number in weights:
            if primary == "$LATEST" or primary.startswith("$LATEST"):
                # Recorded without the "Type" field that Lambda's other errors carry.
                raise LambdaFault(
                    "InvalidParameterValueException",
                    400,
                    "$LATEST is not supported for an alias pointing to more than 1 version",
                    typed=False,
                )
            if number == primary:
                raise invalid(
                    f"Invalid function version {number}. Function version {number} is already"
                    " included in routing configuration."
                )
            additional = self.version(function, number)
            if additional.role != primary_version.role:
                raise invalid(
                    "The function versions in an alias's routing configuration must have the"
                    " same execution role"
                )
            if additional.dead_letter_target_arn != primary_version.dead_letter_target_arn:
                raise invalid(
                    "The function versions in an alias's routing configuration must have the"
                    " same dead-letter queue configuration"
                )

    def create_alias(
        self,
        function: Function,
        name: str,
        function_version: str,
        description: str,
        weights: Mapping[str, float],
    ) -> Alias:
        check(
            alias_problems(
                name=name,
                function_version=function_version,
                description=description,
                weights=weights,
            )
        )
        if name in function.aliases:
            raise LambdaFault(
                "ResourceConflictException",
                409,
                f"Alias already exists: {self.function_arn(function.name, name)}",
            )
        self._check_alias_target(function, function_version, weights)
        alias = Alias(name, function_version, description, dict(weights))
        function.aliases[name] = alias
        return alias

    def alias(self, function: Function, name: str) -> Alias:
        check(alias_problems(name=name))
        alias = function.aliases.get(name)
        if alias is None:
            raise not_found(f"Cannot find alias arn: {self.function_arn(function.name, name)}")
        return alias

    def update_alias(
        self,
        function: Function,
        name: str,
        *,
        function_version: str | None,
        description: str | None,
        weights: Mapping[str, float] | None,
        revision_id: str | None,
    ) -> Alias:
        check(
            alias_problems(
                name=name,
                function_version=function_version,
                description=description,
                weights=weights,
            )
        )
        alias = function.aliases.get(name)
        if alias is None:
            # UpdateAlias words it otherwise than GetAlias (test_non_existent_alias_update).
            raise not_found(f"Alias not found: {self.function_arn(function.name, name)}")
        if revision_id is not None and revision_id != alias.revision_id:
            raise _stale_revision()
        primary = alias.function_version if function_version is None else function_version
        new_weights = alias.weights if weights is None else dict(weights)
        self._check_alias_target(function, primary, new_weights)
        alias.function_version = primary
        alias.weights = new_weights
        if description is not None:
            alias.description = description
        alias.revision_id = _revision()
        return alias

    def delete_alias(self, function: Function, name: str) -> None:
        """Delete an alias; deleting one that does not exist succeeds too, as DeleteAlias is
        idempotent on AWS (test_non_existent_alias_deletion answers 204)."""
        check(alias_problems(name=name))
        function.aliases.pop(name, None)

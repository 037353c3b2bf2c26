"""The error hierarchy; its documented, public face is :mod:`lambdaclient.errors`."""

from __future__ import annotations

# The one list of the public error classes: lambdaclient.errors and lambdaclient re-export
# exactly these, and a test holds it to the hierarchy below.
__all__ = [
    "ClientClosedError",
    "ConcurrentModificationError",
    "ConfigurationError",
    "ConnectError",
    "ConnectTimeoutError",
    "CredentialsError",
    "EventLoopError",
    "EventStreamError",
    "FunctionError",
    "IncompleteStreamError",
    "InvalidParameterValueError",
    "LambdaError",
    "PaginationError",
    "PreconditionFailedError",
    "RequestTimeoutError",
    "ResourceConflictError",
    "ResourceNotFoundError",
    "ResponseParseError",
    "ResponseTooLargeError",
    "ServiceError",
    "ServiceException",
    "ShiftRefusedError",
    "TooManyRequestsError",
    "TotalTimeoutError",
    "TransportError",
    "ValidationError",
    "WaiterError",
]


class LambdaError(Exception):
    """Root of every error lambdaclient raises."""


class ValidationError(LambdaError, ValueError):
    """An argument was rejected before any request was sent.

    ``field`` names the argument at fault.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ConfigurationError(ValidationError):
    """A setting was rejected at construction, before any request was sent.

    ``field`` names the setting as the client's argument is named (``"max_attempts"``), and
    ``source`` says where its value came from: ``"argument max_attempts"``,
    ``"environment variable AWS_MAX_ATTEMPTS"`` or ``"profile 'dev' in /home/me/.aws/config"``.
    """

    def __init__(self, message: str, *, field: str, source: str) -> None:
        super().__init__(message, field=field)
        self.source = source


class CredentialsError(LambdaError):
    """No credentials could be found, or loading or refreshing them failed.

    A failed refresh is not cached: the next call tries again.
    """


class ClientClosedError(LambdaError):
    """A call was made on a :class:`~lambdaclient.LambdaClient` after it was closed."""


class EventLoopError(LambdaError, RuntimeError):
    """A client was used from an event loop other than the one it was first used on.

    A client's connections belong to the loop that opened them, so a client serves one
    event loop: create one client per loop (per ``asyncio.run()``). It is a RuntimeError
    too, so code that caught aiohttp's own error for this still catches it.
    """


class ConcurrentModificationError(LambdaError):
    """Someone else changed the alias during a traffic shift. The shift stopped and changed
    nothing more, so their change stands; ``function_name`` and ``alias_name`` say where."""

    def __init__(self, message: str, *, function_name: str, alias_name: str) -> None:
        super().__init__(message)
        self.function_name = function_name
        self.alias_name = alias_name


class ShiftRefusedError(LambdaError):
    """A traffic shift was refused before it changed anything: the target version does not
    exist or is not published, is already the primary, differs from it in execution role or
    dead-letter configuration, the alias is mid-shift to another version, the target or the
    primary is ``Failed`` or ``Inactive``, the target was not ``Active`` within
    ``ready_timeout``, or the shift's ``before_traffic`` check failed."""


class WaiterError(LambdaError):
    """A wait for a version or an update ended without the state it waited for.

    Either Lambda reported ``Failed`` (``timed_out`` is False) or ``timeout`` ran out
    (``timed_out`` is True). ``function_name`` and ``qualifier`` say what was waited for,
    ``waited`` how many seconds were slept; ``state``, ``state_reason``,
    ``state_reason_code``, ``last_update_status``, ``last_update_status_reason`` and
    ``last_update_status_reason_code`` are what the last read reported (None when absent).
    """

    def __init__(
        self,
        message: str,
        *,
        function_name: str,
        qualifier: str | None,
        timed_out: bool,
        waited: float,
        state: str | None = None,
        state_reason: str | None = None,
        state_reason_code: str | None = None,
        last_update_status: str | None = None,
        last_update_status_reason: str | None = None,
        last_update_status_reason_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.function_name = function_name
        self.qualifier = qualifier
        self.timed_out = timed_out
        self.waited = waited
        self.state = state
        self.state_reason = state_reason
        self.state_reason_code = state_reason_code
        self.last_update_status = last_update_status
        self.last_update_status_reason = last_update_status_reason
        self.last_update_status_reason_code = last_update_status_reason_code


class PaginationError(LambdaError):
    """A listing could not be followed to its end: the server sent a pagination marker it
    had sent before (following it would loop forever), or still had more pages after the
    paginator's ``max_pages``."""


class ResponseParseError(LambdaError):
    """The response body is not what AWS sends for this operation.

    ``status`` and ``request_id`` identify the response. ``excerpt`` is the body's first
    bytes (at most 1 KiB, for a look at what was sent); the error holds nothing more of the
    body. It can hold what the response held (a configuration's environment variables), so
    it is never shown in ``str()`` or ``repr()``.
    """

    def __init__(
        self, message: str, *, status: int, request_id: str | None = None, excerpt: bytes = b""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.request_id = request_id
        self.excerpt = excerpt


class ResponseTooLargeError(ResponseParseError):
    """A response that is read whole (every operation but the streamed invokes) is larger
    than the client's ``max_response_size``: nothing past ``limit`` bytes is read, and the
    connection is closed. ``operation`` names the call (``"GetAlias"``)."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        request_id: str | None = None,
        operation: str,
        limit: int,
    ) -> None:
        super().__init__(message, status=status, request_id=request_id)
        self.operation = operation
        self.limit = limit


class FunctionError(LambdaError):
    """The function ran and failed: raised by ``InvokeResult.raise_for_function_error()``.

    ``error_type`` and ``error_message`` come from the payload the runtime sent (for an
    unhandled exception, its class and message); ``stack_trace`` is its lines, if sent;
    ``executed_version`` is the version that failed.
    """

    def __init__(
        self,
        error_type: str,
        error_message: str,
        stack_trace: list[str] | None,
        executed_version: str | None,
    ) -> None:
        where = f" in version {executed_version}" if executed_version else ""
        super().__init__(f"{error_type}{where}: {error_message}" if error_message else error_type)
        self.error_type = error_type
        self.error_message = error_message
        self.stack_trace = stack_trace
        self.executed_version = executed_version


class EventStreamError(LambdaError):
    """A response stream could not be read to its end.

    Raised for a frame that fails its checksum or is malformed, or for an ``exception`` or
    ``error`` event from the service; ``code`` and ``message`` say which.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


class IncompleteStreamError(EventStreamError):
    """A response stream ended before its ``InvokeComplete`` event, so the response may be
    cut short; it is never passed off as complete."""


class TransportError(LambdaError):
    """The request did not get an HTTP response."""


class ConnectError(TransportError):
    """The connection could not be made, so nothing was sent."""


class RequestTimeoutError(TransportError):
    """Connecting, or waiting for or reading the response, took longer than the timeout."""


class ConnectTimeoutError(ConnectError, RequestTimeoutError):
    """Connecting took longer than ``connect_timeout``, so nothing was sent."""


class TotalTimeoutError(RequestTimeoutError):
    """A call took longer than its ``total_timeout`` (``timeout``, in seconds), all its
    attempts and the waits between them included; it is not retried."""

    def __init__(self, message: str, *, timeout: float) -> None:
        super().__init__(message)
        self.timeout = timeout


class ServiceError(LambdaError):
    """AWS answered with an error.

    Attributes: ``code`` (the AWS error code, e.g. ``"ResourceNotFoundException"``),
    ``message``, ``status`` (HTTP status) and ``request_id`` (``x-amzn-RequestId``).

    Example::

        try:
            await client.get_alias("my-fn", "live")
        except ResourceNotFoundError:
            ...
        except ServiceError as e:
            print(e.code, e.status, e.request_id)
    """

    def __init__(
        self, code: str, message: str, *, status: int, request_id: str | None = None
    ) -> None:
        super().__init__(
            f"{code} (HTTP {status}): {message}" if message else f"{code} (HTTP {status})"
        )
        self.code = code
        self.message = message
        self.status = status
        self.request_id = request_id


class InvalidParameterValueError(ServiceError):
    """AWS rejected a parameter (``InvalidParameterValueException``, 400)."""


class ResourceNotFoundError(ServiceError):
    """The function, version or alias does not exist (``ResourceNotFoundException``, 404)."""


class ResourceConflictError(ServiceError):
    """The resource exists already or an operation on it is in progress (409)."""


class PreconditionFailedError(ServiceError):
    """The RevisionId given does not match the current one (``PreconditionFailedException``, 412).

    Read the resource again to get its current ``revision_id``.
    """


class TooManyRequestsError(ServiceError):
    """AWS throttled the request (``TooManyRequestsException``, 429).

    ``retry_after_seconds`` comes from the ``Retry-After`` header and ``reason`` from the body
    (e.g. ``"ConcurrentInvocationLimitExceeded"``); either may be None.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int,
        request_id: str | None = None,
        retry_after_seconds: float | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(code, message, status=status, request_id=request_id)
        self.retry_after_seconds = retry_after_seconds
        self.reason = reason


class ServiceException(ServiceError):
    """Lambda had an internal error (``ServiceException``, 500)."""


_BY_CODE: dict[str, type[ServiceError]] = {
    "InvalidParameterValueException": InvalidParameterValueError,
    "ResourceNotFoundException": ResourceNotFoundError,
    "ResourceConflictException": ResourceConflictError,
    "PreconditionFailedException": PreconditionFailedError,
    "TooManyRequestsException": TooManyRequestsError,
    "ServiceException": ServiceException,
}


def service_error_class(code: str) -> type[ServiceError]:
    """The class for an AWS error code; :class:`ServiceError` for a code without one."""
    return _BY_CODE.get(code, ServiceError)

"""Every error lambdaclient raises, as one tree rooted at :class:`LambdaError`.

::

    LambdaError
    ├── ValidationError (ValueError)    an argument was rejected before any request was sent
    │   └── ConfigurationError          a setting (argument, environment or profile) was rejected
    ├── CredentialsError                no credentials could be found, or refreshing them failed
    ├── ClientClosedError               a call was made after the client was closed
    ├── EventLoopError (RuntimeError)   a client was used from another event loop than its first
    ├── PaginationError                 a repeated pagination marker, or pages past max_pages
    ├── ConcurrentModificationError     someone else changed the alias during a traffic shift
    ├── ShiftRefusedError               a traffic shift's pre-flight checks refused it
    ├── WaiterError                     a waited-for version or update Failed, or time ran out
    ├── ResponseParseError              a response that is not what AWS sends
    │   └── ResponseTooLargeError       a buffered response past max_response_size
    ├── FunctionError                   the function ran and failed (raise_for_function_error)
    ├── EventStreamError                a response stream broke: bad frame, or an error event
    │   └── IncompleteStreamError       the stream ended before its InvokeComplete event
    ├── TransportError                  the request did not get an HTTP response
    │   ├── ConnectError                the connection could not be made (nothing was sent)
    │   │   └── ConnectTimeoutError     connecting timed out (also a RequestTimeoutError)
    │   └── RequestTimeoutError         connecting, or waiting for or reading a response, timed out
    │       └── TotalTimeoutError       the call's total_timeout ran out
    └── ServiceError                    AWS answered: code, message, status, request_id
        ├── InvalidParameterValueError  InvalidParameterValueException (400)
        ├── ResourceNotFoundError       ResourceNotFoundException (404)
        ├── ResourceConflictError       ResourceConflictException (409)
        ├── PreconditionFailedError     PreconditionFailedException (412): RevisionId mismatch
        ├── TooManyRequestsError        TooManyRequestsException (429): retry_after_seconds, reason
        └── ServiceException            ServiceException (500)
"""

# The names are _errors.__all__, where they are listed once; mypy and pyright follow this form.
from ._errors import *  # noqa: F403
from ._errors import __all__ as __all__

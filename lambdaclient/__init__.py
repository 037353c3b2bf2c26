"""lambdaclient: a typed async client for AWS Lambda aliases and weighted traffic shifting.

Example::

    from lambdaclient import LambdaClient, RoutingConfig

    async with LambdaClient(region="us-east-1") as client:
        alias = await client.get_alias("my-fn", "live")
        await client.update_alias("my-fn", "live", routing_config=RoutingConfig({"2": 0.1}),
                                  revision_id=alias.revision_id)
"""

from ._client import LambdaClient
from ._credentials import Credentials
from ._models import (
    AliasConfiguration,
    AliasPage,
    DeadLetterConfig,
    FunctionConfiguration,
    InvocationType,
    InvokeComplete,
    InvokeResult,
    LogType,
    RoutingConfig,
    VersionPage,
)
from ._streams import ResponseStream, StreamingInvokeResponse
from ._version import __version__
from .errors import (
    ClientClosedError,
    ConcurrentModificationError,
    ConnectError,
    ConnectTimeoutError,
    CredentialsError,
    EventLoopError,
    EventStreamError,
    FunctionError,
    IncompleteStreamError,
    InvalidParameterValueError,
    LambdaError,
    PaginationError,
    PreconditionFailedError,
    RequestTimeoutError,
    ResourceConflictError,
    ResourceNotFoundError,
    ResponseParseError,
    ResponseTooLargeError,
    ServiceError,
    ServiceException,
    ShiftRefusedError,
    TooManyRequestsError,
    TotalTimeoutError,
    TransportError,
    ValidationError,
    WaiterError,
)
from .pagination import AliasPaginator, VersionPaginator

__all__ = [
    "AliasConfiguration",
    "AliasPage",
    "AliasPaginator",
    "ClientClosedError",
    "ConcurrentModificationError",
    "ConnectError",
    "ConnectTimeoutError",
    "Credentials",
    "CredentialsError",
    "DeadLetterConfig",
    "EventLoopError",
    "EventStreamError",
    "FunctionConfiguration",
    "FunctionError",
    "IncompleteStreamError",
    "InvalidParameterValueError",
    "InvocationType",
    "InvokeComplete",
    "InvokeResult",
    "LambdaClient",
    "LambdaError",
    "LogType",
    "PaginationError",
    "PreconditionFailedError",
    "RequestTimeoutError",
    "ResourceConflictError",
    "ResourceNotFoundError",
    "ResponseParseError",
    "ResponseStream",
    "ResponseTooLargeError",
    "RoutingConfig",
    "ServiceError",
    "ServiceException",
    "ShiftRefusedError",
    "StreamingInvokeResponse",
    "TooManyRequestsError",
    "TotalTimeoutError",
    "TransportError",
    "ValidationError",
    "VersionPage",
    "VersionPaginator",
    "WaiterError",
    "__version__",
]

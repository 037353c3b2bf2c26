"""lambdaclient: a typed async client for AWS Lambda aliases and weighted traffic shifting.

Example::

    from lambdaclient import LambdaClient, RoutingConfig

    async with LambdaClient(region="us-east-1") as client:
        alias = await client.get_alias("my-fn", "live")
        await client.update_alias("my-fn", "live", routing_config=RoutingConfig({"2": 0.1}),
                                  revision_id=alias.revision_id)
"""

from importlib.metadata import version as _version

from ._client import AliasPaginator, LambdaClient
from ._credentials import Credentials
from ._models import AliasConfiguration, AliasPage, RoutingConfig
from .errors import (
    ClientClosedError,
    ConnectError,
    ConnectTimeoutError,
    CredentialsError,
    InvalidParameterValueError,
    LambdaError,
    PaginationError,
    PreconditionFailedError,
    RequestTimeoutError,
    ResourceConflictError,
    ResourceNotFoundError,
    ResponseParseError,
    ServiceError,
    ServiceException,
    TooManyRequestsError,
    TransportError,
    ValidationError,
)

__version__ = _version("lambdaclient")

__all__ = [
    "AliasConfiguration",
    "AliasPage",
    "AliasPaginator",
    "ClientClosedError",
    "ConnectError",
    "ConnectTimeoutError",
    "Credentials",
    "CredentialsError",
    "InvalidParameterValueError",
    "LambdaClient",
    "LambdaError",
    "PaginationError",
    "PreconditionFailedError",
    "RequestTimeoutError",
    "ResourceConflictError",
    "ResourceNotFoundError",
    "ResponseParseError",
    "RoutingConfig",
    "ServiceError",
    "ServiceException",
    "TooManyRequestsError",
    "TransportError",
    "ValidationError",
    "__version__",
]

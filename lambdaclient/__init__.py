"""lambdaclient: a typed async client for AWS Lambda aliases and weighted traffic shifting.

Example::

    from lambdaclient import LambdaClient, RoutingConfig

    async with LambdaClient(region="us-east-1") as client:
        alias = await client.get_alias("my-fn", "live")
        await client.update_alias("my-fn", "live", routing_config=RoutingConfig({"2": 0.1}),
                                  revision_id=alias.revision_id)
"""

from . import _errors
from ._client import LambdaClient
from ._config import CABundle, Proxy, RetryMode
from ._credentials import Credentials, CredentialsLoader
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
from ._telemetry import Attempt, AttemptHook
from ._version import __version__
from .errors import *  # noqa: F403  (the error classes: listed once, in _errors.__all__)
from .pagination import AliasPaginator, VersionPaginator

__all__ = [
    "AliasConfiguration",
    "AliasPage",
    "AliasPaginator",
    "Attempt",
    "AttemptHook",
    "CABundle",
    "Credentials",
    "CredentialsLoader",
    "DeadLetterConfig",
    "FunctionConfiguration",
    "InvocationType",
    "InvokeComplete",
    "InvokeResult",
    "LambdaClient",
    "LogType",
    "Proxy",
    "ResponseStream",
    "RetryMode",
    "RoutingConfig",
    "StreamingInvokeResponse",
    "VersionPage",
    "VersionPaginator",
    "__version__",
]
__all__.extend(_errors.__all__)  # the error classes, sorted too

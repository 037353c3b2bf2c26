"""What lambdaclient's users import in their own tests: :class:`LocalLambda`, a local Lambda
that honours weighted aliases, and the faults it can inject; :class:`LambdaContext`, the
``context`` a handler receives, and :data:`Handler`, the type of a handler."""

from ._runtime import ClientContext, Handler, LambdaContext
from ._server import Delay, DropConnection, Fault, LocalLambda, ServerError, Throttle

__all__ = [
    "ClientContext",
    "Delay",
    "DropConnection",
    "Fault",
    "Handler",
    "LambdaContext",
    "LocalLambda",
    "ServerError",
    "Throttle",
]

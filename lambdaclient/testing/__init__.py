"""What lambdaclient's users import in their own tests: :class:`LocalLambda`, a local Lambda
that honours weighted aliases, and the faults it can inject; :class:`LambdaContext`, the
``context`` a handler receives, and :data:`Handler`, the type of a handler;
:class:`MockTransport`, a transport that answers from a function, with no server at all."""

from ._mock import MockTransport
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
    "MockTransport",
    "ServerError",
    "Throttle",
]

"""What lambdaclient's users import in their own tests: :class:`LocalLambda`, a local Lambda
that honours weighted aliases, and the faults it can inject."""

from ._server import Delay, DropConnection, Fault, LocalLambda, ServerError, Throttle

__all__ = ["Delay", "DropConnection", "Fault", "LocalLambda", "ServerError", "Throttle"]

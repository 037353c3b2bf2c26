"""LambdaClient: validates arguments, then wires protocol, signer, transport and retries."""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING

from . import _protocol as protocol
from . import _validate as check
from ._credentials import Credentials, credential_provider, region_from_profile
from ._endpoints import resolve_endpoint, resolve_region
from ._errors import ClientClosedError, LambdaError, ValidationError
from ._models import AliasConfiguration, AliasPage, RoutingConfig
from ._paginator import Paginator
from ._retry import RetryQuota, is_retryable, retry_delay
from ._sigv4 import SigV4Signer
from ._transport import HttpResponse, Transport

if TYPE_CHECKING:
    import aiohttp

__all__ = ["AliasPaginator", "LambdaClient"]

logger = logging.getLogger("lambdaclient")

AliasPaginator = Paginator[AliasPage, AliasConfiguration]
"""What :meth:`LambdaClient.list_aliases` returns: aliases as an async iterator, and .pages()."""

_USER_AGENT = "lambdaclient/0.1"


def _positive(value: object, field: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
        raise ValidationError(f"{field} must be a positive number of seconds", field=field)
    return float(value)


class LambdaClient:
    """An async client for Lambda's aliases.

    Use it as an async context manager, or call :meth:`close` when done::

        async with LambdaClient(region="us-east-1") as client:
            alias = await client.get_alias("my-fn", "live")

    Region: ``region``, else ``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else the profile's.
    Credentials: ``credentials``, else the environment (unless ``profile`` is given), else
    botocore's chain (profiles, SSO, assume-role, web identity, container, IMDS), loaded off
    the event loop and refreshed before they expire.
    Endpoint: ``endpoint_url``, else ``AWS_ENDPOINT_URL_LAMBDA``, else ``AWS_ENDPOINT_URL``,
    else Lambda's regional endpoint (FIPS and dual-stack on request).
    ``session`` is an ``aiohttp.ClientSession`` that the caller owns and closes; without it
    the client creates and closes its own. ``max_attempts`` counts the first attempt.
    ``connect_timeout`` bounds connecting; ``read_timeout`` bounds each wait for data.

    Raises :class:`ValidationError` at construction for a missing or malformed region or
    endpoint, or a bad setting.
    """

    def __init__(
        self,
        region: str | None = None,
        *,
        credentials: Credentials | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        session: aiohttp.ClientSession | None = None,
        max_attempts: int = 3,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        use_fips: bool = False,
        use_dualstack: bool = False,
    ) -> None:
        environ = os.environ
        # Checked at run time too: callers are not all type-checked.
        if not isinstance(credentials, Credentials | None):
            raise ValidationError("credentials must be a Credentials", field="credentials")
        if type(max_attempts) is not int or max_attempts < 1:
            raise ValidationError("max_attempts must be an int of at least 1", field="max_attempts")
        resolved_region = resolve_region(region, environ)
        if resolved_region is None:
            resolved_region = resolve_region(region_from_profile(profile, environ), {})
        if resolved_region is None:
            raise ValidationError(
                "no region: pass region=, or set AWS_REGION or AWS_DEFAULT_REGION, or a region"
                " in the profile",
                field="region",
            )
        self.region = resolved_region
        self._endpoint = resolve_endpoint(
            resolved_region,
            endpoint_url=endpoint_url,
            use_fips=use_fips,
            use_dualstack=use_dualstack,
            environ=environ,
        )
        self._credentials = credential_provider(credentials, profile=profile, environ=environ)
        self._signer = SigV4Signer(service="lambda", region=self._endpoint.signing_region)
        self._transport = Transport(
            session,
            connect_timeout=_positive(connect_timeout, "connect_timeout"),
            read_timeout=_positive(read_timeout, "read_timeout"),
        )
        self._max_attempts = max_attempts
        self._quota = RetryQuota()
        self._closed = False
        # Seams for tests: how the client waits, draws jitter and reads the time.
        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self._random: Callable[[], float] = random.random
        self._now: Callable[[], datetime] = lambda: datetime.now(UTC)

    @property
    def endpoint_url(self) -> str:
        """The base URL requests are sent to."""
        return self._endpoint.url

    def __repr__(self) -> str:
        return f"LambdaClient(region={self.region!r}, endpoint_url={self._endpoint.url!r})"

    async def __aenter__(self) -> LambdaClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the client (and its HTTP session, unless the caller passed one). Idempotent."""
        self._closed = True
        await self._transport.close()

    async def _send(self, request: protocol.HttpRequest) -> HttpResponse:
        """Sign and send ``request``, retrying what is safe to retry; the 2xx response or the
        typed error of the last attempt."""
        if self._closed:
            raise ClientClosedError("the client is closed")
        endpoint = self._endpoint
        url = (
            f"{endpoint.url}{request.path}?{request.query}"
            if request.query
            else (f"{endpoint.url}{request.path}")
        )
        retry_cost: int | None = None
        attempt = 1
        while True:
            credentials = await self._credentials.get()
            headers = {"User-Agent": _USER_AGENT, **request.headers}
            # Inside Lambda, pass the trace id on so Lambda can detect recursive invocations.
            trace_id = os.environ.get("_X_AMZN_TRACE_ID")
            if trace_id and "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
                headers["X-Amzn-Trace-Id"] = trace_id
            # Every attempt is signed afresh: the time and the credentials may have changed.
            headers.update(
                self._signer.sign(
                    method=request.method,
                    host=endpoint.host,
                    path=endpoint.path + request.path,
                    query=request.query,
                    headers=headers,
                    payload_sha256=request.body_sha256,
                    credentials=credentials,
                    now=self._now(),
                )
            )
            error: LambdaError
            try:
                response = await self._transport.request(request.method, url, headers, request.body)
            except LambdaError as exc:
                error = exc
            else:
                if 200 <= response.status < 300:
                    self._quota.release(retry_cost)
                    logger.debug(
                        "%s %s attempt %d: HTTP %d request id %s",
                        request.operation,
                        request.method,
                        attempt,
                        response.status,
                        protocol.request_id(response.headers),
                    )
                    return response
                error = protocol.parse_error(response.status, response.headers, response.body)
            if attempt >= self._max_attempts or not is_retryable(error, request.idempotency):
                raise error
            cost = self._quota.acquire(error)
            if cost is None:
                logger.debug("%s: retry quota exhausted, not retrying", request.operation)
                raise error
            retry_cost = cost
            delay = retry_delay(error, attempt, self._random)
            logger.debug(
                "%s attempt %d failed (%s); retrying in %.3fs",
                request.operation,
                attempt,
                type(error).__name__,
                delay,
            )
            await self._sleep(delay)
            attempt += 1

    async def create_alias(
        self,
        function_name: str,
        name: str,
        *,
        function_version: str,
        description: str | None = None,
        routing_config: RoutingConfig | None = None,
    ) -> AliasConfiguration:
        """Create alias ``name`` of a function, pointing at ``function_version``.

        ``routing_config`` sends a share of the traffic to one more version.
        Raises :class:`ResourceConflictError` if the alias exists.

        Example::

            await client.create_alias("my-fn", "live", function_version="1",
                                      routing_config=RoutingConfig({"2": 0.05}))
        """
        function_version = check.check_function_version(function_version)
        request = protocol.build_create_alias(
            check.check_function_name(function_name),
            check.check_alias_name(name),
            function_version=function_version,
            description=None if description is None else check.check_description(description),
            routing_config=None
            if routing_config is None
            else check.check_routing_config(routing_config, function_version),
        )
        response = await self._send(request)
        return protocol.parse_alias(response.status, response.headers, response.body)

    async def get_alias(self, function_name: str, name: str) -> AliasConfiguration:
        """The alias ``name`` of a function. Raises :class:`ResourceNotFoundError` if absent."""
        request = protocol.build_get_alias(
            check.check_function_name(function_name), check.check_alias_name(name)
        )
        response = await self._send(request)
        return protocol.parse_alias(response.status, response.headers, response.body)

    async def update_alias(
        self,
        function_name: str,
        name: str,
        *,
        function_version: str | None = None,
        description: str | None = None,
        routing_config: RoutingConfig | None = None,
        revision_id: str | None = None,
    ) -> AliasConfiguration:
        """Change an alias. An argument left out (None) is not sent and stays as it is.

        ``routing_config=RoutingConfig({})`` clears the weights. With ``revision_id`` the
        update happens only if the alias still has that revision, else
        :class:`PreconditionFailedError`.

        Example::

            alias = await client.get_alias("my-fn", "live")
            await client.update_alias("my-fn", "live", routing_config=RoutingConfig({"2": 0.2}),
                                      revision_id=alias.revision_id)
        """
        if function_version is not None:
            function_version = check.check_function_version(function_version)
        request = protocol.build_update_alias(
            check.check_function_name(function_name),
            check.check_alias_name(name),
            function_version=function_version,
            description=None if description is None else check.check_description(description),
            routing_config=None
            if routing_config is None
            else check.check_routing_config(routing_config, function_version),
            revision_id=check.check_optional_str(revision_id, "revision_id"),
        )
        response = await self._send(request)
        return protocol.parse_alias(response.status, response.headers, response.body)

    async def delete_alias(self, function_name: str, name: str) -> None:
        """Delete an alias."""
        request = protocol.build_delete_alias(
            check.check_function_name(function_name), check.check_alias_name(name)
        )
        await self._send(request)

    def list_aliases(
        self,
        function_name: str,
        *,
        function_version: str | None = None,
        page_size: int | None = None,
        marker: str | None = None,
    ) -> AliasPaginator:
        """Every alias of a function (only those pointing at ``function_version`` if given).

        Returns an async iterator of :class:`AliasConfiguration` that fetches pages of up to
        ``page_size`` aliases as it goes; ``.pages()`` yields each :class:`AliasPage`.
        Arguments are checked here, before anything is sent.

        Example::

            names = [alias.name async for alias in client.list_aliases("my-fn")]
        """
        function_name = check.check_function_name(function_name)
        if function_version is not None:
            function_version = check.check_function_version(function_version)
        size = check.check_page_size(page_size)

        async def fetch(page_marker: str | None) -> AliasPage:
            request = protocol.build_list_aliases(
                function_name,
                function_version=function_version,
                marker=page_marker,
                page_size=size,
            )
            response = await self._send(request)
            return protocol.parse_alias_page(response.status, response.headers, response.body)

        return Paginator(
            fetch,
            lambda page: page.aliases,
            lambda page: page.next_marker,
            check.check_optional_str(marker, "marker"),
        )

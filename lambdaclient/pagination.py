"""Async pagination: iterate items across pages, or the pages themselves.

What :meth:`~lambdaclient.LambdaClient.list_aliases` and
:meth:`~lambdaclient.LambdaClient.list_versions_by_function` return, named here so that type
checkers and annotations show a public name (also exported from :mod:`lambdaclient`).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Generic, Self, TypeVar

from ._errors import PaginationError
from ._models import AliasConfiguration, AliasPage, FunctionConfiguration, VersionPage

__all__ = ["AliasPaginator", "Paginator", "VersionPaginator"]

ItemT = TypeVar("ItemT")
PageT = TypeVar("PageT")


class Paginator(AsyncIterator[ItemT], Generic[PageT, ItemT]):
    """An async iterator over every item of every page; :meth:`pages` gives the pages.

    Nothing is requested until iteration starts. Like any iterator it is used up by one pass;
    each call of :meth:`pages` walks the pages afresh from the first. A marker the server
    has sent before raises :class:`PaginationError` rather than looping forever.

    ``max_items`` stops the walk quietly once that many items have been given (it is what
    was asked for): the items end there, and :meth:`pages` ends with the page that reached
    it, whole. ``max_pages`` bounds the requests: a server that still has a next page after
    that many raises :class:`PaginationError` once they have been given, since stopping
    quietly would pass a cut listing off as complete (a server sending endless new markers
    is stopped there). Both default to None: no bound, as botocore's paginators.

    Example::

        async for alias in client.list_aliases("my-fn"):
            print(alias.name)
        async for page in client.list_aliases("my-fn", page_size=50).pages():
            print(len(page.aliases), page.next_marker)
    """

    def __init__(
        self,
        fetch: Callable[[str | None], Awaitable[PageT]],
        items: Callable[[PageT], Sequence[ItemT]],
        next_marker: Callable[[PageT], str | None],
        marker: str | None = None,
        *,
        max_items: int | None = None,
        max_pages: int | None = None,
    ) -> None:
        self._fetch = fetch
        self._items = items
        self._next_marker = next_marker
        self._marker = marker
        self._max_items = max_items
        self._max_pages = max_pages
        self._iterator: AsyncIterator[ItemT] | None = None

    async def pages(self) -> AsyncIterator[PageT]:
        """Each page in turn, following the next marker until there is none (or until
        ``max_items`` or ``max_pages``)."""
        marker = self._marker
        # Digests, not the markers: a server's markers can be long, and there may be many.
        seen: set[bytes] = set()
        pages = items = 0
        while True:
            if marker is not None:
                digest = hashlib.sha256(marker.encode()).digest()
                if digest in seen:
                    raise PaginationError(f"the server repeated the marker {marker[:100]!r}")
                seen.add(digest)
            page = await self._fetch(marker)
            pages += 1
            yield page
            items += len(self._items(page))
            marker = self._next_marker(page)
            if marker is None or (self._max_items is not None and items >= self._max_items):
                return
            if self._max_pages is not None and pages >= self._max_pages:
                raise PaginationError(
                    f"the server still had more pages after max_pages={self._max_pages}:"
                    " the listing is incomplete"
                )

    async def _all_items(self) -> AsyncIterator[ItemT]:
        left = self._max_items
        async for page in self.pages():
            page_items = self._items(page)
            if left is not None:
                page_items = page_items[:left]
                left -= len(page_items)
            for item in page_items:
                yield item

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> ItemT:
        if self._iterator is None:
            self._iterator = self._all_items()
        return await anext(self._iterator)


class AliasPaginator(Paginator[AliasPage, AliasConfiguration]):
    """What :meth:`~lambdaclient.LambdaClient.list_aliases` returns: every
    :class:`~lambdaclient.AliasConfiguration`, and each :class:`~lambdaclient.AliasPage`
    from :meth:`pages`."""


class VersionPaginator(Paginator[VersionPage, FunctionConfiguration]):
    """What :meth:`~lambdaclient.LambdaClient.list_versions_by_function` returns: every
    :class:`~lambdaclient.FunctionConfiguration`, and each :class:`~lambdaclient.VersionPage`
    from :meth:`pages`."""

"""Async pagination: iterate items across pages, or the pages themselves.

What :meth:`~lambdaclient.LambdaClient.list_aliases` and
:meth:`~lambdaclient.LambdaClient.list_versions_by_function` return, named here so that type
checkers and annotations show a public name (also exported from :mod:`lambdaclient`).
"""

from __future__ import annotations

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
    ) -> None:
        self._fetch = fetch
        self._items = items
        self._next_marker = next_marker
        self._marker = marker
        self._iterator: AsyncIterator[ItemT] | None = None

    async def pages(self) -> AsyncIterator[PageT]:
        """Each page in turn, following the next marker until there is none."""
        marker = self._marker
        seen: set[str] = set()
        while True:
            if marker is not None:
                if marker in seen:
                    raise PaginationError(f"the server repeated the marker {marker!r}")
                seen.add(marker)
            page = await self._fetch(marker)
            yield page
            marker = self._next_marker(page)
            if marker is None:
                return

    async def _all_items(self) -> AsyncIterator[ItemT]:
        async for page in self.pages():
            for item in self._items(page):
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

"""Frozen value types returned by, and passed to, the client."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs

__all__ = ["AliasConfiguration", "AliasPage", "RoutingConfig"]


def _frozen_weights(weights: Mapping[str, float]) -> Mapping[str, float]:
    # A read-only copy, so a frozen RoutingConfig cannot change under the caller's feet.
    return MappingProxyType(dict(weights))


@attrs.frozen(slots=True)
class RoutingConfig:
    """The weights of an alias's additional version: ``{version: fraction of traffic}``.

    The alias's own ``function_version`` gets the rest. AWS allows one additional version.
    ``RoutingConfig({})`` clears the weights when passed to ``update_alias``.

    Example::

        RoutingConfig({"2": 0.1})   # 10% to version 2, 90% to the primary
    """

    additional_version_weights: Mapping[str, float] = attrs.field(
        converter=_frozen_weights, hash=False, repr=lambda w: repr(dict(w))
    )


@attrs.frozen(slots=True)
class AliasConfiguration:
    """An alias as Lambda describes it.

    ``routing_config`` is None when the alias sends all traffic to ``function_version``.
    ``revision_id`` changes on every update; pass it to ``update_alias(revision_id=...)`` to
    make an update conditional on nobody else having changed the alias.
    """

    alias_arn: str
    name: str
    function_version: str
    description: str | None
    routing_config: RoutingConfig | None
    revision_id: str


@attrs.frozen(slots=True)
class AliasPage:
    """One page of ``list_aliases``: its aliases and the marker of the next page, if any."""

    aliases: tuple[AliasConfiguration, ...]
    next_marker: str | None

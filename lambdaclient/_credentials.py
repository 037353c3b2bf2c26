"""AWS credentials, and the providers that find and refresh them."""

from __future__ import annotations

from datetime import datetime

import attrs

__all__ = ["Credentials"]


@attrs.frozen(slots=True)
class Credentials:
    """An AWS key pair, with the session token of temporary credentials.

    The secret key and the session token never appear in ``repr()`` or ``str()``.

    Example::

        Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    """

    access_key_id: str
    secret_access_key: str = attrs.field(repr=False)
    session_token: str | None = attrs.field(default=None, repr=False)
    expiration: datetime | None = None

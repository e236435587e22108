"""The event feed's cursor: an opaque token for a ``(txid, id)`` position."""

from __future__ import annotations

import base64
import binascii
import json

from tickets.selectors import FeedPosition


def encode_position(position: FeedPosition) -> str:
    raw = json.dumps({"t": position[0], "i": position[1]}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_position(token: str) -> FeedPosition:
    """The position in ``token``; ``ValueError`` if it is not one of ours."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode())
        txid, pk = int(data["t"]), int(data["i"])
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        raise ValueError("invalid cursor") from None
    if txid < 0 or pk < 0:
        raise ValueError("invalid cursor")
    return txid, pk

"""Sealing webhook secrets at rest: a database dump alone does not let anyone sign.

The standard library has no AEAD cipher, so this is an encrypt-then-MAC construction from
HMAC-SHA256 alone: a keystream of ``HMAC(k_enc, nonce || counter)`` blocks XORed with the
secret, and a tag ``HMAC(k_mac, nonce || ciphertext)``. Both keys are derived from Django's
``SECRET_KEY``; rotating that key makes sealed secrets unreadable (rotate the endpoint
secrets after it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from django.conf import settings

_PREFIX = "v1:"
_NONCE_BYTES = 16
_TAG_BYTES = 32


def _key(purpose: str) -> bytes:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"integrations.webhook-secret.{purpose}".encode(), "sha256"
    ).digest()


def _keystream(nonce: bytes, length: int) -> bytes:
    key = _key("enc")
    blocks = (
        hmac.new(key, nonce + counter.to_bytes(4, "big"), hashlib.sha256).digest()
        for counter in range((length + 31) // 32)
    )
    return b"".join(blocks)[:length]


def seal(secret: str) -> str:
    """The secret encrypted and authenticated, as text for a database column."""
    raw = secret.encode()
    nonce = secrets.token_bytes(_NONCE_BYTES)
    ciphertext = bytes(a ^ b for a, b in zip(raw, _keystream(nonce, len(raw)), strict=True))
    tag = hmac.new(_key("mac"), nonce + ciphertext, hashlib.sha256).digest()
    return _PREFIX + base64.b64encode(nonce + ciphertext + tag).decode("ascii")


def unseal(sealed: str) -> str:
    """The secret back; ``ValueError`` if the text was altered or sealed with another key."""
    if not sealed.startswith(_PREFIX):
        raise ValueError("unknown sealed-secret format")
    blob = base64.b64decode(sealed[len(_PREFIX) :])
    nonce, ciphertext, tag = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:-_TAG_BYTES], blob[-_TAG_BYTES:]
    expected = hmac.new(_key("mac"), nonce + ciphertext, hashlib.sha256).digest()
    if not hmac.compare_digest(tag, expected):
        raise ValueError("sealed secret does not authenticate")
    return bytes(
        a ^ b for a, b in zip(ciphertext, _keystream(nonce, len(ciphertext)), strict=True)
    ).decode()

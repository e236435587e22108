"""The pure parts of webhooks: sealed secrets, address rules, feed cursors, event types."""

from __future__ import annotations

import ipaddress

import pytest

from integrations import crypto
from integrations.feed import decode_position, encode_position
from integrations.ssrf import UnsafeTarget, address_refusal, url_target


def test_a_sealed_secret_opens_only_unaltered_and_with_the_same_key(settings):
    sealed = crypto.seal("whsec_abc")
    assert "whsec_abc" not in sealed and crypto.unseal(sealed) == "whsec_abc"
    assert crypto.seal("whsec_abc") != sealed  # a fresh nonce each time
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(ValueError):
        crypto.unseal(tampered)
    settings.SECRET_KEY = "another key entirely, at least fifty characters long......"
    with pytest.raises(ValueError):
        crypto.unseal(sealed)


@pytest.mark.parametrize(
    "address, refused",
    [
        ("93.184.215.14", False),
        ("2606:4700:4700::1111", False),
        ("127.0.0.1", True),
        ("10.0.0.1", True),
        ("172.31.255.255", True),
        ("192.168.0.1", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),
        ("100.127.255.254", True),
        ("0.0.0.0", True),
        ("224.0.0.251", True),
        ("255.255.255.255", True),
        ("192.0.2.1", True),  # documentation range: not public
        ("::1", True),
        ("::", True),
        ("fc00::1", True),
        ("fdff::1", True),
        ("fe80::1", True),
        ("ff02::1", True),
        ("::ffff:10.0.0.1", True),
        ("::ffff:93.184.215.14", False),
    ],
)
def test_address_rules(address, refused):
    assert (address_refusal(ipaddress.ip_address(address)) is not None) is refused


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://93.184.215.14/",
        "https://u:p@93.184.215.14/",
        "https://u@93.184.215.14/",
        "https://93.184.215.14:22/",
        "https:///nohost",
        "https://93.184.215.14:99999/",
    ],
)
def test_url_shapes_refused_before_any_lookup(url, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(UnsafeTarget):
        url_target(url)


def test_default_ports_are_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    assert url_target("https://93.184.215.14/x").port == 443
    assert url_target("http://93.184.215.14/x").port == 80


def test_feed_cursor_round_trip_and_garbage():
    assert decode_position(encode_position((123456789012, 42))) == (123456789012, 42)
    for bad in ["", "!!!", "eyJ0IjoxfQ", encode_position((1, 2))[:-3] + "zz_"]:
        with pytest.raises(ValueError):
            decode_position(bad)

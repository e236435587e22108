"""Two-factor sign-in with TOTP (RFC 6238) authenticator apps, on django-otp's TOTP devices.

A user has at most one device; it is usable once confirmed with a first code. A session
that has passed a code carries django-otp's device id; ``session_is_verified`` reads it.
Failed codes are counted by ``servicedesk.login_guard`` (per user) on top of django-otp's
own per-device exponential delay, and a code is never accepted twice (``last_t``).
"""

from __future__ import annotations

from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.db import transaction
from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicedesk import login_guard
from servicedesk.choices import PROVIDER_ROLES
from servicedesk.models import Membership, User

DEVICE_NAME = "Authenticator"


def requires_totp(user: User) -> bool:
    """Provider staff (and Django admin users) must use a second factor when it is required."""
    if user.is_superuser or user.is_staff:
        return True
    return Membership.objects.filter(user=user, is_active=True, role__in=PROVIDER_ROLES).exists()


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def session_is_verified(request: HttpRequest) -> bool:
    return bool(request.session.get(DEVICE_ID_SESSION_KEY))


@transaction.atomic
def totp_device_for_enrolment(*, user: User) -> TOTPDevice:
    """The user's unconfirmed device (a new secret the first time) to show while enrolling."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def secret_base32(device: TOTPDevice) -> str:
    """The secret as authenticator apps expect it typed in."""
    return b32encode(device.bin_key).decode()


def qr_svg(device: TOTPDevice) -> str:
    """The ``otpauth://`` URL as an inline SVG QR code (drawn here: no outside service)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode")


def _check_code(*, user: User, device: TOTPDevice, code: str) -> bool:
    login_guard.check_code_allowed(user_id=user.pk)
    code = code.strip().replace(" ", "")
    if code.isdigit() and len(code) == device.digits and device.verify_token(code):
        login_guard.record_code_success(user_id=user.pk)
        return True
    login_guard.record_code_failure(user_id=user.pk)
    return False


def totp_device_confirm(*, request: HttpRequest, user: User, code: str) -> TOTPDevice | None:
    """Confirm the enrolling device with a first code and mark this session as verified.

    Returns the device, or ``None`` when the code is wrong; raises
    ``login_guard.TooManyAttempts`` while code attempts are locked.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None or not _check_code(user=user, device=device, code=code):
        return None
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    otp_login(request, device)
    return device


def totp_verify(*, user: User, code: str) -> TOTPDevice | None:
    """The user's confirmed device if ``code`` is its current code, else ``None``."""
    device = confirmed_device(user)
    if device is None or not _check_code(user=user, device=device, code=code):
        return None
    return device


def mark_session_verified(request: HttpRequest, device: TOTPDevice) -> None:
    otp_login(request, device)

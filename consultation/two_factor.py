"""Two-factor authentication (TOTP, django-otp) for staff who can reach personal data or answers in
bulk: anyone who may export responses or see names and emails must confirm a code from an
authenticator app after the password; others may set it up too. Required when OTP_REQUIRED is on
(the default whenever DEBUG is off; the embedded demo runs without it)."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.plugins.otp_totp.models import TOTPDevice

from consultation.middleware import signed_in
from questionnaires.models import Membership
from questionnaires.permissions import ROLE_ACTIONS, Action

EXEMPT_PREFIXES = ("/accounts/", "/static/", "/r/", "/healthz", "/anymail/")


# The roles whose members may export answers in bulk, as the permission table grants it.
EXPORTING_ROLES = [role for role, actions in ROLE_ACTIONS.items() if Action.EXPORT in actions]


def needs_two_factor(user) -> bool:
    """Superusers, members who may export answers or see names on any questionnaire, and anyone
    who chose to set up an authenticator (optional for the others, then asked for like theirs).
    One query, asked afresh on each request, so a change of role counts at once."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff:  # the admin can show names to staff with view rights
        return True
    return (
        get_user_model()
        .objects.filter(pk=user.pk)
        .filter(
            Exists(
                Membership.objects.filter(user=OuterRef("pk")).filter(
                    Q(role__in=EXPORTING_ROLES) | Q(can_view_personal_data=True)
                )
            )
            | Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
        )
        .exists()
    )


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


SETUP_KEY = "two_factor_setup_key"
SETUP_TRIES = "two_factor_setup_tries"
SETUP_TRIES_LIMIT = 10


def setup_device(request: HttpRequest) -> TOTPDevice:
    """The authenticator being set up, not saved yet: its key lives in this session only, so someone
    who learned the password and opened the setup page never sees the key the owner will confirm."""
    from django_otp.util import random_hex

    key = request.session.get(SETUP_KEY)
    if not key:
        key = request.session[SETUP_KEY] = random_hex(20)
    return TOTPDevice(user=request.user, name="Authenticator app", key=key, confirmed=False)


def setup_code_is_right(request: HttpRequest, device: TOTPDevice, code: str) -> bool:
    """Check a code against the unsaved device; after too many wrong ones, a new key is drawn."""
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if totp.verify(int(code), tolerance=device.tolerance):
        return True
    tries = request.session.get(SETUP_TRIES, 0) + 1
    request.session[SETUP_TRIES] = tries
    if tries >= SETUP_TRIES_LIMIT:
        request.session.pop(SETUP_KEY, None)
        request.session[SETUP_TRIES] = 0
    return False


def secret_of(device: TOTPDevice) -> str:
    """The key as authenticator apps take it when typed (base32, in groups of four)."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// link as a QR code image (an SVG data URI: allowed by the page policy)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=4)


def safe_next(request: HttpRequest, fallback: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or fallback
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


class TwoFactorMiddleware:
    """Sends staff who need a second factor, and have not given one in this session, to give it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.OTP_REQUIRED
            and not request.path.startswith(EXEMPT_PREFIXES)
            and signed_in(request)
            and not request.user.is_verified()
            and needs_two_factor(request.user)
        ):
            return redirect(f"{reverse('two_factor')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


# --- Giving a code ---------------------------------------------------------------------------------

WRONG_CODE = "This code is not right: check the app's current code and try again."


def two_factor_accept(request: HttpRequest, device: TOTPDevice, code: str) -> str:
    """Check a code from the authenticator; when right, confirm a device being set up (audited) and
    mark this session as verified. Returns "" on success, else why the code was refused."""
    from django_otp import login as otp_login

    from consultation.audit import audit_record
    from consultation.models import AuditEntry

    code = code.replace(" ", "")
    well_formed = code.isascii() and code.isdecimal() and len(code) in (6, 8)
    if not device.confirmed:
        if not (well_formed and setup_code_is_right(request, device, code)):
            return WRONG_CODE
        device.confirmed = True
        device.save()
        request.session.pop(SETUP_KEY, None)
        audit_record(actor=request.user, action=AuditEntry.Action.TWO_FACTOR_SET_UP, target=request.user)
    elif not device.verify_is_allowed()[0]:
        return "Too many wrong codes: wait a little, then try again."
    elif not (well_formed and device.verify_token(code)):
        return WRONG_CODE
    otp_login(request, device)
    return ""

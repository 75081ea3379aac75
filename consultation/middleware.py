"""The client's address, derived once per request from the trusted-proxy setting."""

import contextvars
import functools
import ipaddress
import logging
import time

import csp.middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.utils import build_policy
from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest

_current_client_address: contextvars.ContextVar[str] = contextvars.ContextVar("client_address", default="-")


def client_address(request: HttpRequest) -> str:
    """The address of whoever sent the request.

    Each trusted proxy appends the address it received the request from to X-Forwarded-For, so the
    real client is the entry TRUSTED_PROXY_COUNT places from the right. Entries further left were
    written by the client itself and cannot be trusted.
    """
    remote = request.META.get("REMOTE_ADDR", "") or "-"
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [
        part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
    ]
    if len(forwarded) < hops:
        # Fewer entries than proxies: the request bypassed part of the chain; trust the socket.
        return remote
    return forwarded[-hops]


def client_ip_for_axes(request: HttpRequest) -> str | None:
    """The client address for django-axes, which stores it in an IP-address column: None when the
    request has no usable address (a test client's login, a misconfigured proxy)."""
    address = client_address(request)
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None
    return address


def current_client_address() -> str:
    """The client address of the request being served, or "-" outside a request (commands, tasks)."""
    return _current_client_address.get()


class ClientAddressMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        request.client_address = client_address(request)
        token = _current_client_address.set(request.client_address)
        try:
            return self.get_response(request)
        finally:
            _current_client_address.reset(token)


class ClientAddressLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.client_address = _current_client_address.get()
        return True


# The session key that marks a respondent's session (respondents.views.SESSION_KEY).
RESPONDENT_SESSION_KEY = "respondent_invitation_id"
LAST_SEEN_KEY = "_last_seen"
LAST_SEEN_STEP = 300  # seconds: the session is written at most this often just to say "still here"
STARTED_KEY = "_started"
# Requests a page makes on its own (the dashboard's refresh) are not someone at the keyboard.
BACKGROUND_SUFFIXES = ("/data.json",)


def _now() -> float:
    return time.time()


def signed_in(request: HttpRequest) -> bool:
    """Whether a staff member is signed in. A session without a user id is anonymous, so
    respondents' requests never load the (OTP-wrapped) user just to learn that."""
    return SESSION_KEY in request.session and request.user.is_authenticated


def session_seen(session) -> None:
    """Mark a session as active now (a login, a personal link opened); its 12 hours start here."""
    now = int(_now())
    session[LAST_SEEN_KEY] = now
    session[STARTED_KEY] = now


def session_seen_at_login(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        session_seen(request.session)


class IdleSessionMiddleware:
    """Sessions end after a spell of inactivity: staff after STAFF_IDLE_MINUTES (a laptop left open
    in a meeting room), respondents after RESPONDENT_IDLE_MINUTES, and any session SESSION_MAX_HOURS
    after it began. A page's own refreshes do not count as activity.

    A respondent loses nothing: every page was saved as they went, and a page they submit after the
    limit is still saved (the session ends at their next GET); their personal link then opens a new
    session where they left off."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        session = request.session
        staff = signed_in(request)
        respondent = RESPONDENT_SESSION_KEY in session
        if staff or respondent:
            now = int(_now())
            last, started = session.get(LAST_SEEN_KEY), session.get(STARTED_KEY)
            minutes = settings.STAFF_IDLE_MINUTES if staff else settings.RESPONDENT_IDLE_MINUTES
            idle = isinstance(last, int) and now - last > minutes * 60
            too_old = isinstance(started, int) and now - started > settings.SESSION_MAX_HOURS * 3600
            if (idle or too_old) and (staff or request.method in ("GET", "HEAD")):
                if staff:
                    logout(request)
                else:
                    session.flush()
            elif not request.path.endswith(BACKGROUND_SUFFIXES):
                if not isinstance(started, int):
                    session[STARTED_KEY] = now
                if not isinstance(last, int) or now - last >= LAST_SEEN_STEP:
                    session[LAST_SEEN_KEY] = now
        return self.get_response(request)


# What a view or decorator sets on a response to change its policy (django-csp's csp_update & co.).
_PER_RESPONSE_POLICY = (
    "_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro",
)  # fmt: skip


@functools.cache
def _settings_policy(report_only: bool) -> str:
    return build_policy(report_only=report_only)


@receiver(setting_changed)
def _forget_settings_policy(*, setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _settings_policy.cache_clear()


class CSPMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's middleware, with the policy from settings built once instead of on every
    response, where it cost a fifth of a millisecond. A response that brings its own policy
    (csp_update, csp_replace…) or a page that used a nonce is left to django-csp, as before."""

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
            hasattr(response, name) for name in _PER_RESPONSE_POLICY
        ):
            return super().process_response(request, response)
        if response.status_code in (500, 404) and settings.DEBUG:
            return response  # django-csp leaves Django's debug pages alone
        for header, report_only, exempt in (
            (HEADER, False, "_csp_exempt"),
            (HEADER_REPORT_ONLY, True, "_csp_exempt_ro"),
        ):
            policy = _settings_policy(report_only)
            if not policy or header in response or getattr(response, exempt, False):
                continue
            setting = "CONTENT_SECURITY_POLICY_REPORT_ONLY" if report_only else "CONTENT_SECURITY_POLICY"
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
            if not request.path_info.startswith(tuple(prefixes)):
                response[header] = policy
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response

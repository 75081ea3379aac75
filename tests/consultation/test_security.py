"""Page security headers, the trusted-proxy client address, and the settings' refusal to run unsafely."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory, override_settings

from consultation.middleware import client_address

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/accounts/login/", "/healthz", "/no-such-page/"])
def test_every_page_has_a_strict_content_security_policy(client, url):
    response = client.get(url)
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and "unsafe-inline" not in policy
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def _policy_for(view=None, path: str = "/somewhere/", middleware_class=None):
    from django.http import HttpResponse

    from consultation.middleware import CSPMiddleware

    request = RequestFactory().get(path)
    middleware = (middleware_class or CSPMiddleware)(
        lambda request: view(request) if view else HttpResponse("ok")
    )
    middleware.process_request(request)
    response = middleware.process_response(request, middleware.get_response(request))
    return response.get("Content-Security-Policy"), response.get("Content-Security-Policy-Report-Only")


def test_the_policy_is_the_one_django_csp_builds_from_settings_and_follows_them():
    from csp.utils import build_policy

    assert _policy_for() == (build_policy(), None)
    changed = {"DIRECTIVES": {"default-src": ["'none'"]}}
    with override_settings(CONTENT_SECURITY_POLICY=changed, CONTENT_SECURITY_POLICY_REPORT_ONLY=changed):
        assert _policy_for() == ("default-src 'none'", "default-src 'none'")
        excluded = {**changed, "EXCLUDE_URL_PREFIXES": ["/somewhere/"]}
        with override_settings(CONTENT_SECURITY_POLICY=excluded):
            assert _policy_for() == (None, "default-src 'none'")
    assert _policy_for() == (build_policy(), None)


def test_a_view_that_brings_its_own_policy_or_uses_a_nonce_gets_what_django_csp_gives():
    import csp.middleware
    from csp.constants import NONCE, SELF
    from csp.decorators import csp_exempt, csp_update
    from django.http import HttpResponse

    def with_nonce(request):
        str(request.csp_nonce)
        return HttpResponse()

    updated = csp_update({"img-src": ["https://maps.example.org"]})(lambda r: HttpResponse())
    assert "img-src 'self' data: https://maps.example.org" in _policy_for(updated)[0]
    assert _policy_for(csp_exempt()(lambda r: HttpResponse())) == (None, None)
    nonces = {"DIRECTIVES": {"script-src": [SELF, NONCE]}}
    with override_settings(CONTENT_SECURITY_POLICY=nonces):
        policy, _ = _policy_for(with_nonce)
        assert "'nonce-" in policy
        assert (
            policy.split("'nonce-")[0]
            == _policy_for(with_nonce, middleware_class=csp.middleware.CSPMiddleware)[0].split("'nonce-")[0]
        )


@pytest.mark.django_db
def test_pages_carry_no_inline_script_or_style(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "r@example.org", "x" * 12)
    client.force_login(user)
    for url in ["/accounts/login/", "/"]:
        html = client.get(url).content.decode()
        assert "<script>" not in html and "<style" not in html and " style=" not in html, url


@pytest.mark.parametrize(
    ("proxies", "forwarded", "remote", "expected"),
    [
        (0, "203.0.113.9", "198.51.100.1", "198.51.100.1"),  # no proxy: the header could be forged
        (1, "203.0.113.9", "10.0.0.2", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "10.0.0.2", "203.0.113.9"),  # a forged first entry is ignored
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.3", "10.0.0.2", "203.0.113.9"),
        (2, "203.0.113.9", "10.0.0.2", "10.0.0.2"),  # fewer entries than proxies: trust the socket
    ],
)
def test_client_address_follows_the_trusted_proxy_count(proxies, forwarded, remote, expected):
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert client_address(request) == expected


def run_manage(*args, env: dict[str, str]) -> subprocess.CompletedProcess:
    test_only = {
        "DEBUG",
        "SECRET_KEY",
        "OPT_OUT_HASH_KEY",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    }  # set by the test run, not by a deployment
    clean = {key: value for key, value in os.environ.items() if key not in test_only}
    clean["DJANGO_SETTINGS_MODULE"] = "consultation.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_environment() -> dict[str, str]:
    """The variables .env.example documents, with its placeholders as values."""
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
    return values


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(tmp_path):
    # An empty .env of its own, so a developer's .env does not supply the key.
    result = run_manage("check", env={"DEBUG": "false", "SECRET_KEY": "", "DJANGO_READ_DOT_ENV": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set and DEBUG is off" in result.stderr


def test_it_refuses_to_start_without_an_opt_out_key_when_debug_is_off():
    env = {"DEBUG": "false", "SECRET_KEY": "k" * 50, "OPT_OUT_HASH_KEY": "", "DJANGO_READ_DOT_ENV": "false"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "OPT_OUT_HASH_KEY is not set and DEBUG is off" in result.stderr


def test_the_opt_out_key_must_not_be_the_secret_key():
    same = "k" * 50
    env = {"DEBUG": "false", "SECRET_KEY": same, "OPT_OUT_HASH_KEY": same, "DJANGO_READ_DOT_ENV": "false"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "OPT_OUT_HASH_KEY must differ from SECRET_KEY" in result.stderr


def test_check_deploy_is_clean_with_the_documented_production_environment():
    env = production_environment()
    assert env["DEBUG"] == "false"
    env["DJANGO_READ_DOT_ENV"] = "false"
    # The documented database is a placeholder server; check --deploy does not connect to it.
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_collectstatic_succeeds_with_the_production_storage(tmp_path):
    """The manifest storage follows every url() and sourceMappingURL in vendored files: a missing
    one fails the deployment (and the Docker build), so it fails here first."""
    env = {**production_environment(), "DJANGO_READ_DOT_ENV": "false", "STATIC_ROOT": str(tmp_path)}
    result = run_manage("collectstatic", "--no-input", "-v0", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "staticfiles.json").exists()

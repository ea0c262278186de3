"""Configuration from the environment (fails loudly), production checks
(S-18), headers and error pages (S-19)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from privacy_admin.env import new_field_key_item

ROOT = Path(__file__).resolve().parent.parent


def _production_env(**overrides):
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "privacy_admin.settings",
        "DEBUG": "false",
        "SECRET_KEY": "s" * 20 + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
        "FIELD_ENCRYPTION_KEYS": new_field_key_item("p1"),
        "AUDIT_HMAC_KEY": "a" * 10 + "audit-hmac-key-for-the-deploy-check-0123456789",
        "LOOKUP_HASH_KEY": "l" * 10 + "lookup-hash-key-for-the-deploy-check-0123456789",
        "ALLOWED_HOSTS": "privacy.example.org",
        "EMAIL_HOST": "smtp.example.org",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def _manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_check_deploy_passes_in_production_settings():
    """S-18: `check --deploy --fail-level WARNING` passes with DEBUG off."""
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env())
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "missing",
    ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "AUDIT_HMAC_KEY", "LOOKUP_HASH_KEY", "ALLOWED_HOSTS", "EMAIL_HOST"],
)
def test_production_refuses_to_start_without_real_keys(missing):
    """S-18: with DEBUG off, a missing key stops the start with its name."""
    result = _manage("check", env=_production_env(**{missing: None}))
    assert result.returncode != 0
    assert missing in result.stderr


@pytest.mark.parametrize(
    "name,value",
    [
        ("DEBUG", "ja"),
        ("SESSION_IDLE_MINUTES", "15m"),
        ("SESSION_IDLE_MINUTES", "0"),
        ("FIELD_ENCRYPTION_KEYS", "k1:tooshort"),
        ("FIELD_ENCRYPTION_KEYS", "no-colon"),
        ("DATABASE_URL", "nonsense://"),
    ],
)
def test_bad_values_fail_loudly(name, value):
    """Settings fail loudly on a bad value, naming the variable."""
    result = _manage("check", env=_production_env(**{name: value}))
    assert result.returncode != 0
    assert name in result.stderr or "DATABASE_URL" in result.stderr


def test_demo_seed_refused_with_debug_off():
    """Demo accounts have known passwords: seed_demo is refused when DEBUG is off."""
    result = _manage("seed_demo", env=_production_env())
    assert result.returncode != 0
    assert "refused" in result.stderr


def test_env_example_lists_every_setting():
    """Every variable settings.py reads is listed in the committed .env.example."""
    import re

    source = (ROOT / "privacy_admin" / "settings.py").read_text()
    names = set(re.findall(r'(?:env_str|env_bool|env_int|env_list|_key)\("([A-Z_]+)"', source))
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z_]+)=", example, re.M))
    assert names and names <= listed, names - listed


def test_csp_header_is_strict(client, db):
    """S-18: a strict CSP on every page: no inline script, object-src 'none',
    base-uri 'none', frame-ancestors 'none'."""
    for path in ("/accounts/login/", "/healthz", "/does-not-exist"):
        csp = client.get(path)["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["script-src"] == "'self'"
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
        assert directives["object-src"] == "'none'"
        assert directives["base-uri"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"


def test_templates_have_no_inline_script_or_style():
    """S-18: nothing in the templates needs 'unsafe-inline'."""
    import re

    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert " style=" not in text and "<style" not in text, template
        assert not re.search(r"\son[a-z]+=", text), template


def test_security_headers_on_pages(verified_client, teacher_a):
    """S-19: no-store on pages with data, nosniff, Referrer-Policy, framing denied,
    HttpOnly and SameSite cookies."""
    client = verified_client(teacher_a)
    response = client.get("/")
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    from django.conf import settings

    assert settings.SESSION_COOKIE_HTTPONLY and settings.CSRF_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"


def test_production_cookies_secure_and_hsts():
    """S-19: Secure cookies and HSTS with DEBUG off."""
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS >= 31536000, s.SECURE_SSL_REDIRECT)"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["True", "True", "True", "True"], result.stderr


def test_error_pages_are_generic(verified_client, teacher_a, settings):
    """S-19: a 500 shows a generic Dutch page, no details, when DEBUG is off."""
    from django.test import Client
    from django.urls import path

    import privacy_admin.urls as urls

    def boom(request):
        raise RuntimeError("SECRET-DETAIL-4711")

    settings.DEBUG = False
    urls.urlpatterns.append(path("boom-for-test/", boom))
    try:
        from django.urls import clear_url_caches

        clear_url_caches()
        client = verified_client(teacher_a)
        client.raise_request_exception = False
        response = client.get("/boom-for-test/")
    finally:
        urls.urlpatterns.pop()
        clear_url_caches()
    assert response.status_code == 500
    body = response.content.decode()
    assert "SECRET-DETAIL-4711" not in body and "Traceback" not in body
    assert "Er ging iets mis" in body
    not_found = Client().get("/static/nothing-here.css")
    assert not_found.status_code == 404

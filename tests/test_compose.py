"""docker-compose.yml and the settings agree: the stack has its five services,
the app services are built from this repository's Dockerfile, and every
environment variable handed to the app is one privacy_admin/settings.py reads
(a misspelt or dead variable would otherwise be silently ignored)."""

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
SETTINGS = ROOT / "privacy_admin" / "settings.py"

SERVICES = {"postgres", "redis", "web", "worker", "beat"}
APP_SERVICES = {"web", "worker", "beat"}
# The settings helpers whose first argument names an environment variable.
ENV_READERS = {"env_str", "env_bool", "env_int", "env_list", "_key"}
# Variables read by the official images themselves, not by our settings.
IMAGE_VARIABLES = {"postgres": {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"}, "redis": set()}
SECRETS = {"SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "AUDIT_HMAC_KEY", "LOOKUP_HASH_KEY", "EMAIL_HOST_PASSWORD"}
SUBSTITUTION = re.compile(r"^\$\{[A-Z][A-Z0-9_]*(:?[-?][^}]*)?\}$")


def settings_env_names(source):
    """Names passed as a literal first argument to env_str/env_bool/env_int/
    env_list/_key anywhere in the settings source."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ENV_READERS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def env_names(service):
    environment = service.get("environment") or {}
    if isinstance(environment, dict):
        return set(environment)
    return {item.split("=", 1)[0] for item in environment}


def env_map(service):
    environment = service.get("environment") or {}
    if isinstance(environment, dict):
        return {key: "" if value is None else str(value) for key, value in environment.items()}
    return dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)


@pytest.fixture(scope="module")
def services():
    return yaml.safe_load(COMPOSE.read_text())["services"]


@pytest.fixture(scope="module")
def read_names():
    return settings_env_names(SETTINGS.read_text())


def test_settings_parser_finds_the_names_settings_reads(read_names):
    """The parser is not vacuous: it finds names read through each helper,
    including the keys read through _key()."""
    assert {"DEBUG", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "SESSION_IDLE_MINUTES"} <= read_names
    assert {"SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "AUDIT_HMAC_KEY"} <= read_names
    assert settings_env_names('env_int("A", 1)\n_key("B")\nother("C")\nenv_str(name)') == {"A", "B"}


def test_the_five_services_exist(services):
    """The stack is postgres, redis, web (gunicorn), worker and beat (celery)."""
    assert set(services) >= SERVICES


def test_app_services_build_from_the_dockerfile(services):
    """web, worker and beat run the image built from this repository's
    Dockerfile, each with its own command: gunicorn, celery worker, celery beat."""
    for name in APP_SERVICES:
        build = services[name].get("build")
        assert build is not None, f"{name} is not built from the Dockerfile"
        if isinstance(build, str):
            build = {"context": build}
        dockerfile = (COMPOSE.parent / build.get("context", ".")).resolve() / build.get("dockerfile", "Dockerfile")
        assert dockerfile == ROOT / "Dockerfile"
        assert dockerfile.is_file()

    def command(name):
        cmd = services[name]["command"]
        return cmd if isinstance(cmd, str) else " ".join(cmd)

    assert "gunicorn privacy_admin.wsgi" in command("web")
    assert "celery -A privacy_admin worker" in command("worker")
    assert "celery -A privacy_admin beat" in command("beat")


def test_every_environment_variable_is_read_by_settings(services, read_names):
    """Every variable in any service's environment is read: by
    privacy_admin/settings.py for the app services, by the image itself for
    postgres and redis. Environments are written out in the compose file (no
    env_file), so this check sees every name."""
    for name, service in services.items():
        assert "env_file" not in service, f"{name}: list variables under environment:, not env_file"
        allowed = read_names if name in APP_SERVICES else IMAGE_VARIABLES.get(name, set())
        unknown = env_names(service) - allowed
        assert not unknown, f"{name} sets variables nothing reads: {sorted(unknown)}"


def test_production_mode_without_committed_secrets(services):
    """The app runs with DEBUG off, and no key or password is written in the
    compose file: each comes from ${VAR} substitution (the environment or a
    git-ignored .env), the keys settings demands being required (${VAR:?})."""
    for name in APP_SERVICES:
        env = env_map(services[name])
        assert env["DEBUG"].lower() == "false"
        for key in SECRETS & set(env):
            assert SUBSTITUTION.match(env[key]), f"{name}: {key} must come from ${{{key}}}"
        for key in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "AUDIT_HMAC_KEY", "LOOKUP_HASH_KEY", "ALLOWED_HOSTS"):
            assert env[key].startswith(f"${{{key}:?"), f"{name}: {key} must be required"
        assert re.search(r"://[^:/@]+:\$\{POSTGRES_PASSWORD:\?[^}]*\}@", env["DATABASE_URL"])
    assert SUBSTITUTION.match(env_map(services["postgres"])["POSTGRES_PASSWORD"])


def test_web_trusts_one_proxy(services, read_names):
    """S-2, S-22: gunicorn sits behind one reverse proxy, so web takes the
    client's address from X-Forwarded-For (one entry from the right); the
    setting is one settings.py reads."""
    assert "TRUSTED_PROXY_COUNT" in read_names
    assert env_map(services["web"])["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-1}"
    assert env_map(services["web"])["DEBUG"].lower() == "false"

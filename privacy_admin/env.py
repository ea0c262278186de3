"""Reading settings from the environment, loudly.

Every value the app needs from outside comes through one of these functions, so
a typo in a deployment ("DEBUG=ja", "SESSION_IDLE_MINUTES=15m") stops the start
with a message naming the variable, instead of silently meaning something else.
"""

import base64
import binascii
import json
import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name, default=None):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value


def env_bool(name, default):
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name, default, minimum=None, maximum=None):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, not {value}")
    return value


def env_list(name, default=()):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def parse_field_keys(raw_items, source="FIELD_ENCRYPTION_KEYS"):
    """Parse `id:base64key` items into an ordered {id: 32-byte key} dict.

    The first item encrypts; the others only decrypt, which is what lets a key
    be rotated out (see `manage.py rotate_encryption_keys`).
    """
    keys = {}
    for item in raw_items:
        key_id, sep, encoded = item.partition(":")
        if not sep or not key_id.isalnum() or len(key_id) > 16:
            raise ImproperlyConfigured(
                f"{source}: each item must look like 'keyid:base64key' with a short alphanumeric key id"
            )
        try:
            key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(f"{source}: key {key_id!r} is not valid base64") from None
        if len(key) != 32:
            raise ImproperlyConfigured(f"{source}: key {key_id!r} must be 32 bytes, not {len(key)}")
        if key_id in keys:
            raise ImproperlyConfigured(f"{source}: key id {key_id!r} appears twice")
        keys[key_id] = key
    return keys


def new_field_key_item(key_id="k1"):
    return f"{key_id}:{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip('=')}"


def load_dev_keys(path: Path):
    """Development keys, generated once into a git-ignored file.

    Only used when DEBUG is on; production refuses to start without real keys.
    The file is created with O_EXCL so two processes starting at once agree.
    """
    fresh = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": new_field_key_item("dev1"),
        "AUDIT_HMAC_KEY": secrets.token_urlsafe(48),
        "LOOKUP_HASH_KEY": secrets.token_urlsafe(48),
    }
    if not path.exists():
        data = fresh
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle, indent=2)
            return data
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"cannot read development keys from {path}: {exc}") from None
    missing = {name: value for name, value in fresh.items() if name not in data}
    if missing:
        # A key added by a later version: add it once, keep the others.
        data.update(missing)
        path.write_text(json.dumps(data, indent=2))
    return data

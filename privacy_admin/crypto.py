"""Authenticated encryption of sensitive values at rest (S-4, S-25).

AES-256-GCM under keys from FIELD_ENCRYPTION_KEYS, never derived from
SECRET_KEY. A stored value reads `enc1:<key id>:<base64 nonce+ciphertext>`, so
each value says which key sealed it and `manage.py rotate_encryption_keys` can
re-seal everything under the first key before an old one is dropped. The
model and field name are bound in as associated data: a ciphertext copied into
another column does not decrypt.
"""

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import models

PREFIX = "enc1"


class DecryptionError(Exception):
    pass


def _keys():
    return settings.FIELD_ENCRYPTION_KEYS


def primary_key_id():
    return next(iter(_keys()))


def encrypt(plaintext: str, context: str) -> str:
    key_id = primary_key_id()
    nonce = os.urandom(12)
    sealed = AESGCM(_keys()[key_id]).encrypt(nonce, plaintext.encode(), context.encode())
    return f"{PREFIX}:{key_id}:{base64.b64encode(nonce + sealed).decode()}"


def key_id_of(stored: str):
    parts = stored.split(":", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    return parts[1]


def decrypt(stored: str, context: str) -> str:
    key_id = key_id_of(stored)
    if key_id is None:
        raise DecryptionError("value is not in the encrypted format")
    key = _keys().get(key_id)
    if key is None:
        raise DecryptionError(f"key {key_id!r} is not configured")
    blob = base64.b64decode(stored.split(":", 2)[2])
    try:
        return AESGCM(key).decrypt(blob[:12], blob[12:], context.encode()).decode()
    except InvalidTag:
        raise DecryptionError("value does not authenticate under its key") from None


class EncryptedTextField(models.TextField):
    """A text column whose content is only ever stored encrypted.

    The clear value is never searchable in the database; that is the point.
    """

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        self.crypto_context = f"{cls._meta.app_label}.{cls._meta.model_name}.{name}"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value, self.crypto_context)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value, self.crypto_context)


def encrypted_fields():
    """Every (model, field) pair in the project that stores encrypted values."""
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field

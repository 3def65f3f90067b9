"""Registry errors: all are input errors (exit 2), each one line a user can act on."""

from __future__ import annotations

import json

from hullscan.errors import ImageError, SourceNotFoundError
from hullscan.image.digests import show


class RegistryError(ImageError):
    """The registry could not be reached, or answered something unusable."""


class RegistryAuthError(RegistryError):
    """Authentication failed or was refused (401/403)."""


class RegistryNotFoundError(SourceNotFoundError):
    """The repository, tag, manifest or blob does not exist (404)."""


def error_detail(body: bytes) -> str:
    """The first ``errors[].code: message`` of a registry's JSON error body, or ''."""
    try:
        doc = json.loads(body[:65536])
    except (json.JSONDecodeError, UnicodeDecodeError):
        return ""
    errors = doc.get("errors") if isinstance(doc, dict) else None
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return ""
    code, message = errors[0].get("code"), errors[0].get("message")
    text = " ".join(str(x) for x in (code, message) if isinstance(x, str) and x)
    return show(text)[1:-1] if text else ""

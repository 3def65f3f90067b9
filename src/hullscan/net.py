"""HTTP helpers shared by every downloader (feed updates, registries): retry timing, header
parsing and URL redaction. Pure functions over strings; no client lives here."""

from __future__ import annotations

import random
import re
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing httpx costs ~0.1 s (it loads its CLI's rich/click): not here
    import httpx


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how long to wait before trying a request again."""

    retries: int = 4  # further attempts after the first one
    backoff: float = 1.0  # first retry after ~backoff s, then doubling, with jitter
    max_backoff: float = 60.0
    max_retry_after: float = 300.0  # a longer Retry-After fails instead of waiting

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait after failed attempt number ``attempt`` (1-based); None when the
        server asks to wait longer than ``max_retry_after``."""
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            return retry_after + random.uniform(0, 0.1)  # noqa: S311 (jitter, not crypto)
        step = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return random.uniform(step / 2, step)  # noqa: S311 (jitter, not crypto)


RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # not "²": float() would refuse it
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def parse_int(value: str | None) -> int | None:
    """A non-negative decimal header value (``Content-Length``), else None."""
    if value is None or not (value.strip().isascii() and value.strip().isdigit()):
        return None
    return int(value)


def content_range(value: str | None) -> tuple[int, int | None] | None:
    """``bytes START-END/TOTAL`` -> (START, TOTAL or None when ``*``)."""
    m = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", value or "")
    if not m:
        return None
    return int(m.group(1)), None if m.group(3) == "*" else int(m.group(3))


def transport_reason(exc: httpx.RequestError) -> str:
    """The first line of a transport error, short enough for a one-line message."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def redact_url(url: str) -> str:
    """``url`` without user-info and with its query hidden: safe to print and to store."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    query = "?..." if parts.query else ""
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", "")) + query

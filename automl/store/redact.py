"""Passwords out of every URL and message: ``mask`` for URLs in any text, ``scrub`` for a
driver's error text that may quote a URL's password in other forms."""

from __future__ import annotations

import re
import urllib.parse

_SECRET_KEYS = re.compile(r"(?i)^(password|passwd|pwd|secret|token|sslpassword)$")


def mask(url: str) -> str:
    """The URL with every password replaced by ``***``: safe to print, log and report.

    Covers ``user:password@host`` (a password may hold ``@``, ``:`` or ``/``),
    ``:password@host`` (Redis), and ``?password=...`` in the query string; any text
    that contains such URLs is masked the same way.
    """
    return _URL.sub(lambda m: _mask_one(m.group(0)), url)


# A URL inside any text: a scheme, then anything up to white space or a quote.
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]*")


def _mask_one(url: str) -> str:
    scheme, _, rest = url.partition("://")
    rest, sep, query = rest.partition("?")
    at = rest.rfind("@")
    if at >= 0:
        user, colon, _ = rest[:at].partition(":")
        rest = f"{user}:***{rest[at:]}" if colon else rest
    if sep:
        query = "&".join(_mask_pair(pair) for pair in query.split("&"))
    return f"{scheme}://{rest}{sep}{query}"


def _mask_pair(pair: str) -> str:
    key, eq, _ = pair.partition("=")
    return f"{key}=***" if eq and _SECRET_KEYS.match(key) else pair


def _passwords(url: str) -> list[str]:
    """The passwords a URL holds, to scrub them from a driver's error text."""
    found = []
    rest, _, query = url.partition("://")[2].partition("?")
    at = rest.rfind("@")
    if at >= 0 and ":" in rest[:at]:
        found.append(rest[:at].partition(":")[2])
    for pair in query.split("&"):
        key, eq, value = pair.partition("=")
        if eq and _SECRET_KEYS.match(key):
            found.append(value)
    return [p for p in found if p]


def scrub(text: str, url: str) -> str:
    """``text`` with URLs masked and every password of ``url`` removed, however quoted."""
    text = mask(text)
    for secret in _passwords(url):
        variants = {secret, urllib.parse.unquote(secret), urllib.parse.quote(secret, safe="")}
        for v in sorted(variants, key=len, reverse=True):
            if len(v) >= 3:
                text = text.replace(v, "***")
    return text

"""Passwords out of every URL and message.

A storage URL's passwords are read the way the libraries that connect with it read them
(SQLAlchemy's ``make_url``, redis' ``parse_url``), and also the way a person meant them
when the URL is ambiguous (an unencoded ``@``, ``?`` or ``#`` in a password), since a
driver may quote any of those readings in its errors. :func:`remember` notes them for the
whole process; :func:`mask` shows a URL, or any text, without them; :func:`scrub` removes
every remembered password, however quoted, from a message before it leaves the process
(CLI errors, logs, stored failure details, reports).
"""

from __future__ import annotations

import html
import json
import logging
import re
import threading
import urllib.parse
from typing import Any

_SECRET_KEYS = re.compile(r"(?i)^(password|passwd|pwd|secret|token|sslpassword|sslkey_password)$")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
# A URL inside any text: a scheme, then anything up to white space or a quote.
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]*")
# A driver may quote one part of a password that a URL delimiter cut (a host name after
# an unencoded `@`, a "port" before a `?`).
_PARTS = re.compile(r"[@?#/:]+")
_SHORT = 4  # passwords shorter than this are scrubbed only where they stand alone
_MIN_PART = 3  # shorter passwords, and parts of one, are scrubbed only in quotes
_REDIS = ("redis", "rediss", "unix")

_known: set[str] = set()
_lock = threading.Lock()


def remember(url: str) -> None:
    """Note the passwords of ``url``: :func:`scrub` removes them from every message."""
    found = {v for secret in passwords(url) for v in _variants(secret)}
    if found:
        with _lock:
            _known.update(found)


def passwords(url: str) -> list[str]:
    """Every reading of the passwords ``url`` holds, longest first (none for a path)."""
    if not _SCHEME.match(url):
        return []
    found = _library_passwords(url) | _literal_passwords(url)
    for secret in list(found):
        if _PARTS.search(secret):
            found.update(filter(None, _PARTS.split(secret)))
    # a short one only as a driver quotes it: 'pw' (too common a string to scrub bare)
    short = {s for s in found if len(s) < _MIN_PART}
    found = (found - short) | {f"{q}{s}{q}" for s in short if s for q in "'\""}
    return sorted(found - {""}, key=len, reverse=True)


def _library_passwords(url: str) -> set[str]:
    """The passwords the driver would send: SQLAlchemy's reading, or redis' one."""
    scheme = _SCHEME.match(url).group(1).split("+")[0].lower()  # type: ignore[union-attr]
    found: set[str] = set()
    try:
        if scheme in _REDIS:
            found |= _redis_passwords(url)
        else:
            from sqlalchemy.engine import make_url

            parsed = make_url(url)
            found.add(str(parsed.password or ""))
            found |= _query_secrets(parsed.query.items())
    except Exception:  # noqa: BLE001 - unparsable: the literal reading still applies
        pass
    return found


def _redis_passwords(url: str) -> set[str]:
    try:
        from redis.connection import parse_url
    except ImportError:  # the redis extra is not installed: read it as redis does
        parts = urllib.parse.urlsplit(url)
        query = urllib.parse.parse_qsl(parts.query)
        return {urllib.parse.unquote(parts.password or "")} | _query_secrets(query)
    kwargs = parse_url(url)
    return {str(kwargs.get("password") or "")} | _query_secrets(kwargs.items())


def _query_secrets(items: Any) -> set[str]:
    found: set[str] = set()
    for key, value in items:
        if _SECRET_KEYS.match(str(key)):
            found.update([value] if isinstance(value, str) else map(str, value))
    return found


def _literal_passwords(url: str) -> set[str]:
    """The password as a person wrote it: between the user's ``:`` and the last ``@``,
    and ``password=`` values of the query, each also percent-decoded."""
    rest = url.partition("://")[2]
    found = set()
    userinfo, at, host = rest.rpartition("@")
    if at and ":" in userinfo:
        found.add(userinfo.partition(":")[2])
    for pair in re.split(r"[?&;]", host):
        key, eq, value = pair.partition("=")
        if eq and _SECRET_KEYS.match(key):
            found.add(value)
    return found | {urllib.parse.unquote(s) for s in found}


def _variants(secret: str) -> set[str]:
    """The forms a password takes in messages: raw, percent-encoded, JSON, HTML."""
    forms = {
        secret,
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote(secret),
        urllib.parse.quote_plus(secret),
        json.dumps(secret)[1:-1],
        html.escape(secret),
        html.escape(secret, quote=False),
    }
    return {f for f in forms if f}


def mask(text: str) -> str:
    """``text`` (a URL, or a message holding URLs) with every password shown as ``***``.

    A whole URL is read as its driver reads it, so a password holding ``?``, spaces,
    quotes or ``<>`` is masked whole; URLs inside a message are masked, and then every
    password remembered in this process is scrubbed.
    """
    if _SCHEME.match(text) and "\n" not in text:
        return mask_url(text)
    return scrub(_URL.sub(lambda m: mask_url(m.group(0)), text))


def mask_url(url: str) -> str:
    """A storage URL without its passwords: safe to print, log, store and report."""
    remember(url)
    scheme = _SCHEME.match(url)
    if not scheme:
        return scrub(url)
    text = url
    if scheme.group(1).split("+")[0].lower() not in _REDIS:
        text = _render_sqlalchemy(url) or url
    text = _mask_userinfo(text)
    text = re.sub(
        r"(?i)([?&;](?:password|passwd|pwd|secret|token|sslpassword|sslkey_password)=)[^&;#]*",
        r"\1***",
        text,
    )
    return _replace(text, passwords(url))


def _render_sqlalchemy(url: str) -> str | None:
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - not a URL SQLAlchemy reads: masked as text
        return None
    base = parsed.set(query={}).render_as_string(hide_password=True)
    pairs = []
    for key, value in parsed.query.items():
        for v in [value] if isinstance(value, str) else value:
            shown = "***" if _SECRET_KEYS.match(key) else urllib.parse.quote(str(v), safe="")
            pairs.append(f"{urllib.parse.quote(key)}={shown}")
    return base + ("?" + "&".join(pairs) if pairs else "")


def _mask_userinfo(text: str) -> str:
    """``user:anything@host`` -> ``user:***@host``, up to the last ``@``."""
    head, sep, rest = text.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return text
    return f"{head}{sep}{userinfo.partition(':')[0]}:***@{host}"


def scrub(text: str, url: str | None = None) -> str:
    """``text`` with every remembered password (and those of ``url``) shown as ``***``."""
    if url:
        remember(url)
    with _lock:
        known = list(_known)
    return _replace(text, known)


def _replace(text: str, secrets: list[str]) -> str:
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret == "***" or not secret:
            continue
        if len(secret) >= _SHORT:
            text = text.replace(secret, "***")
        else:
            text = re.sub(rf"(?<![\w*]){re.escape(secret)}(?![\w*])", "***", text)
    return text


class _ScrubLogs(logging.Filter):
    """Log records of the ``automl`` logger leave with every known password scrubbed."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format: logging reports it when it emits
            return True
        record.msg, record.args = scrub(message), None
        return True


logging.getLogger("automl").addFilter(_ScrubLogs())

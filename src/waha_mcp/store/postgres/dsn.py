"""A PostgreSQL DSN as it may be shown (logs, doctor, errors): never its password."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

from waha_mcp.redact import REDACTED

# libpq's own names for a password given as a query parameter (`?password=…`).
PASSWORD_PARAMS = ("password",)


def dsn_password(dsn: str) -> str | None:
    """The password a `postgresql://` DSN carries, in its userinfo or as `?password=`, if any."""
    parts = urlsplit(dsn)
    if parts.password:
        return unquote(parts.password)
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name.lower() in PASSWORD_PARAMS and value:
            return value
    return None


def shown_dsn(dsn: str) -> str:
    """`dsn` with its password (userinfo or query) replaced by `***`."""
    parts = urlsplit(dsn.strip())
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}:{REDACTED}@{host}"
    query = "&".join(
        f"{name}={REDACTED if name.lower() in PASSWORD_PARAMS else value}"
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    return parts._replace(netloc=netloc, query=query).geturl()


def hide(text: str, dsn: str) -> str:
    """`text` (a driver's error message) without the DSN's password, should the driver have echoed it."""
    password = dsn_password(dsn)
    raw = urlsplit(dsn).password  # as written (percent-encoded) and as decoded
    for form in (password, raw):
        if form:
            text = text.replace(form, REDACTED)
    return text

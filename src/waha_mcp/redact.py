"""The one secret redactor: tool output and logs (later the inbox and the audit log) go through it.

Two ways a credential is recognised: by value (the API key, and every credential seen in an argument), and by
shape wherever it appears, whatever it is called (`SHAPES`): the password of a URL (`postgres://u:PASS@db`),
a credential in a query string (`?token=`, `api_key=`), an Authorization header's value, and an HTTP basic
or bearer credential quoted in text (basic auth is only base64 of `user:password`).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Iterable
from typing import Any

from waha_mcp.jsonfast import dumps

REDACTED = "***"
MIN_SECRET = 4  # shorter values would redact ordinary words
# The one list of what makes a name a credential's, for every name read: a tool argument, WAHA's settings, a
# session's config, a query parameter. A name holding one of SECRET_WORDS (any case), ending in `key` (key,
# hmacKey, WAHA_API_KEY; not keyId), or equal to one of SECRET_NAMES.
SECRET_WORDS = ("passw", "pwd", "secret", "token", "hmac", "credential", "signature", "api_key", "api-key", "apikey")
SECRET_NAMES = ("sig",)  # a signed URL's signature (`?sig=`)


def secret_named(name: str) -> bool:
    """Is a field, setting or parameter of this name a credential?"""
    lowered = name.lower()
    return lowered.endswith("key") or lowered in SECRET_NAMES or any(word in lowered for word in SECRET_WORDS)


def redact_named(node: Any) -> tuple[Any, list[str]]:
    """`node` with the value of every credential-named key (any depth) replaced by `***`, and those values.

    For what WAHA shows of its own configuration (its environment, an app's config): names decide, so a
    secret nobody told us about is still hidden.
    """
    found: list[str] = []

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            for name, item in value.items():
                if secret_named(str(name)) and isinstance(item, str | int | float) and not isinstance(item, bool):
                    if str(item):
                        found.append(str(item))
                        out[name] = REDACTED
                    else:
                        out[name] = item
                else:
                    out[name] = walk(item)
            return out
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    return walk(node), found


def secrets_in(arguments: Any) -> list[str]:
    """Every credential-like string value in `arguments` (by its key's name)."""
    found: list[str] = []

    def walk(node: Any, key: str) -> None:
        if isinstance(node, dict):
            for name, value in node.items():
                walk(value, str(name).lower())
        elif isinstance(node, list):
            for value in node:
                walk(value, key)
        elif isinstance(node, str) and secret_named(key):
            found.append(node)

    walk(arguments, "")
    return found


_QUERY_NAMES = "|".join(
    [rf"[\w.\-]*(?:{'|'.join(map(re.escape, SECRET_WORDS))})[\w.\-]*", r"[\w.\-]*key", *map(re.escape, SECRET_NAMES)]
)
# Each shape a pattern of (what stays, the credential).
URL_PASSWORD = re.compile(r"(://[^\s/:@\"'<>\\]*:)([^\s/\"'<>\\]+)(?=@)")  # greedy to the last `@` before the path
QUERY = re.compile(rf"([?&;](?i:{_QUERY_NAMES})=)([^&#\s\"'<>\\]+)")
HEADER = re.compile(r"((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)([^\"'\r\n,;}\\]+)", re.IGNORECASE)
BASIC = re.compile(r"(\bbasic\s+)([A-Za-z0-9+/]{6,}={0,2})(?![\w+/=])", re.IGNORECASE)
BEARER = re.compile(r"(\bbearer\s+)([A-Za-z0-9\-._~+/]{20,}=*)", re.IGNORECASE)
SHAPES = (URL_PASSWORD, QUERY, HEADER, BASIC, BEARER)
# A credential in a query string is named so: one of these must be in the (lower-cased) text for that search.
_QUERY_WORDS = (*SECRET_WORDS, "key", *SECRET_NAMES)


def _is_basic(encoded: str) -> bool:
    """Basic auth is base64 of `user:password`; another word after "basic" is left alone."""
    try:
        return ":" in base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False


def _hide(match: re.Match[str]) -> str:
    if match.re is BASIC and not _is_basic(match.group(2)):
        return match.group(0)
    return f"{match.group(1)}{REDACTED}"


def _shapes_in(text: str) -> list[re.Pattern[str]]:
    """The shapes worth searching `text` for, by substring tests far cheaper than the searches (nearly every
    tool result holds none of them)."""
    lowered = _ascii_lowered(text)
    found = [URL_PASSWORD] if "://" in text and "@" in text else []
    if "=" in text and any(word in lowered for word in _QUERY_BYTES):
        found.append(QUERY)
    found += [pattern for word, pattern in _WORDED if word in lowered]
    return found


_WORDED = ((b"authorization", HEADER), (b"basic", BASIC), (b"bearer", BEARER))
_QUERY_BYTES = tuple(word.encode() for word in _QUERY_WORDS)
# The only characters whose lower case is (or holds) an ASCII letter: KELVIN SIGN → k, İ → i + a dot.
_FOLDS_TO_ASCII = ("\u212a", "\u0130")


def _ascii_lowered(text: str) -> bytes:
    """`text`'s ASCII letters lower-cased, for finding ASCII words in it as `text.lower()` would: bytes.lower()
    touches only ASCII, three to four times faster than str.lower() on a text with any non-ASCII character (a
    name, an emoji), and no other character lower-cases to ASCII but the two handled here."""
    if any(char in text for char in _FOLDS_TO_ASCII):
        return text.lower().encode("utf-8", "surrogatepass")
    return text.encode("utf-8", "surrogatepass").lower()  # a lone surrogate is no letter, and no error here


def redact_shapes(text: str) -> str:
    """`text` with every credential recognised by its shape (`SHAPES`) replaced by `***`."""
    for pattern in _shapes_in(text):
        text = pattern.sub(_hide, text)
    return text


def has_shapes(text: str) -> bool:
    """Might `redact_shapes` change `text`? (A base64 word after "basic" may be a false alarm.)"""
    return any(pattern.search(text) for pattern in _shapes_in(text))


def _std_escape(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


class Redactor:
    """Replaces each known secret, and its JSON-escaped form, with `***`; longest first."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET:
                forms.add(secret)
                forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
                forms.add(json.dumps(secret)[1:-1])
        self._forms = sorted(forms, key=len, reverse=True)
        # Each form as it reads inside a JSON string, by either serialiser `dumps` may use: escaping is character
        # by character, so a string holding a form serialises to text holding that form's escape.
        self._probes = sorted(forms | {dumps(form)[1:-1] for form in forms} | {_std_escape(form) for form in forms})

    def finds_in(self, texts: Iterable[str], structured: Any = None) -> bool:
        """Would `text` or `value` change any of `texts`, or any string in `structured`? One search per form and
        one for the shapes over each text and over `structured` serialised once (not again when a text is that
        serialisation already, as a tool's result text is); a yes may be a false alarm (a key, a `str()` of an
        object, a base64 word after "basic"), never a missed secret."""
        haystacks = list(texts)
        if structured is not None:
            serial = dumps(structured)
            if serial not in haystacks:
                haystacks.append(serial)
        return any(probe in text for text in haystacks for probe in self._probes) or any(map(has_shapes, haystacks))

    def text(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return redact_shapes(text)

    def value(self, node: Any) -> Any:
        if isinstance(node, str):
            return self.text(node)
        if isinstance(node, dict):
            return {key: self.value(item) for key, item in node.items()}
        if isinstance(node, list):
            return [self.value(item) for item in node]
        return node


class Secrets:
    """Every secret this process knows: the API key, and credentials seen in tool arguments, so a password
    set in one call and echoed by WAHA in a later one is still hidden. Bounded: the oldest seen go first."""

    LIMIT = 256

    def __init__(self, *fixed: str | None) -> None:
        self._fixed = [secret for secret in fixed if secret]
        self._seen: dict[str, None] = {}
        self._redactor: Redactor | None = None

    def add(self, values: Iterable[str]) -> None:
        for value in values:
            if len(value) >= MIN_SECRET and value not in self._seen:
                self._seen[value] = None
                self._redactor = None
        while len(self._seen) > self.LIMIT:
            del self._seen[next(iter(self._seen))]

    def redactor(self, keep: Iterable[str] = ()) -> Redactor:
        """The redactor of every known secret; `keep`: values one result may show (a new key, shown once)."""
        kept = set(keep) - set(self._fixed)  # the configured key is never shown, whatever a call says
        if kept:
            return Redactor([secret for secret in [*self._fixed, *self._seen] if secret not in kept])
        if self._redactor is None:
            self._redactor = Redactor([*self._fixed, *self._seen])
        return self._redactor

    def known(self, value: str) -> bool:
        return value in self._seen or value in self._fixed


class LogRedaction(logging.Filter):
    """Hides known secrets in log records (message, arguments and traceback) before any handler writes them."""

    def __init__(self, secrets: Secrets) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        redactor = self._secrets.redactor()
        message = record.getMessage()
        clean = redactor.text(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redactor.text(record.exc_text)
        return True

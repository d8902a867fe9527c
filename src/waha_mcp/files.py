"""Local files the server may read (to send) or write (downloads): only inside WAHA_MCP_FILES_DIR.

The model names files; it must not be able to name `/etc/passwd` or `~/.ssh/id_ed25519`. Every path
is resolved (symlinks and `..` followed) before it is compared with the allowed directory, so a
symlink inside the directory that points outside it is refused too.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from waha_mcp.config import Settings
from waha_mcp.errors import ToolInputError

__all__ = ["files_root", "read_local_file", "resolve_local_path", "safe_filename", "save_file"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 120


def files_root(settings: Settings) -> Path:
    """The allowed directory, resolved; refused when WAHA_MCP_FILES_DIR is unset."""
    if not settings.files_dir:
        raise ToolInputError(
            "local files are disabled: set WAHA_MCP_FILES_DIR to a directory the server may use, "
            "or pass a URL or base64 data instead"
        )
    return Path(settings.files_dir).expanduser().resolve()


def resolve_local_path(settings: Settings, path: str | os.PathLike[str]) -> Path:
    """The real path of an existing file inside WAHA_MCP_FILES_DIR (relative paths are taken from it)."""
    root = files_root(settings)
    raw = os.fspath(path).strip()
    if not raw or "\x00" in raw:
        raise ToolInputError(f"file path {raw!r} is not a valid path")
    try:
        candidate = Path(raw).expanduser()
        if not candidate.is_absolute():
            candidate = root / candidate
        real = candidate.resolve()  # follows symlinks and `..` before the check
        if not real.is_relative_to(root):
            raise ToolInputError(
                f"file {raw!r} resolves to {real}, outside WAHA_MCP_FILES_DIR ({root}): only files in that "
                "directory can be sent"
            )
        if not real.exists():
            raise ToolInputError(f"file {raw!r} does not exist in WAHA_MCP_FILES_DIR ({root})")
        if not real.is_file():
            raise ToolInputError(f"{raw!r} is not a regular file")
    except (OSError, RuntimeError) as exc:  # name too long, symlink loop, `~user` unknown...
        shown = repr(raw)[:80]
        raise ToolInputError(f"file path {shown} cannot be used: {getattr(exc, 'strerror', None) or exc}") from None
    return real


def read_local_file(settings: Settings, path: str | os.PathLike[str]) -> tuple[Path, bytes]:
    """`resolve_local_path` plus the bytes, refused above WAHA_MCP_MAX_MEDIA_BYTES before reading."""
    real = resolve_local_path(settings, path)
    size = real.stat().st_size
    limit = settings.max_media_bytes
    if size > limit:
        raise ToolInputError(
            f"file {real.name} is {size} bytes, over the {limit}-byte limit (WAHA_MCP_MAX_MEDIA_BYTES)"
        )
    return real, real.read_bytes()


def safe_filename(filename: str | None, default: str = "file") -> str:
    """A name that is one path component of safe characters: `../x y.pdf` → `x_y.pdf`."""
    base = Path(str(filename or "").replace("\\", "/")).name
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = _UNSAFE.sub("_", stem).strip("._-")
    ext = _UNSAFE.sub("", ext)[:16]
    stem = stem[: _MAX_NAME - len(ext) - 1] or default
    return f"{stem}.{ext}" if ext else stem


def save_file(settings: Settings, filename: str | None, data: bytes) -> Path:
    """Write `data` to a new file inside WAHA_MCP_FILES_DIR under a safe, unique name; never overwrites."""
    root = files_root(settings)
    root.mkdir(parents=True, exist_ok=True)
    name = safe_filename(filename)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    for attempt in range(100):
        tag = "" if attempt == 0 else f"-{secrets.token_hex(3)}"
        target = root / f"{stem}{tag}{suffix}"
        try:
            # "x": exclusive create, so a name taken meanwhile (or a planted symlink) is never written through.
            with open(target, "xb") as handle:
                handle.write(data)
        except FileExistsError:
            continue
        return target
    raise ToolInputError(f"could not find a free file name for {name!r} in {root}")

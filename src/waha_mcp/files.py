"""Local files the server may read (to send) or write (downloads): only inside WAHA_MCP_FILES_DIR.

The model names files; it must not be able to name `/etc/passwd` or `~/.ssh/id_ed25519`. A file is
opened once, component by component from the directory's own descriptor, following no symbolic link
(`O_NOFOLLOW`), and what was opened is then checked (`fstat`: a regular file with no other hard link)
and read from that descriptor: a link swapped in after a check cannot redirect the read, because
there is no separate check. Refusals name only what the agent gave and the directory, never where a
link points.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
from pathlib import Path, PurePosixPath

from waha_mcp.config import Settings
from waha_mcp.errors import ToolInputError

__all__ = ["files_root", "inside_path", "read_local_file", "safe_filename", "save_file"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 120
_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
# A FIFO would block the open; it is refused by `fstat` right after.
_FILE_FLAGS = _FLAGS | getattr(os, "O_NONBLOCK", 0)
_DIR_FLAGS = _FLAGS | getattr(os, "O_DIRECTORY", 0)
_LINKS_REFUSED = "copy the file itself into WAHA_MCP_FILES_DIR"
_CAN_OPEN_SAFELY = os.open in os.supports_dir_fd and hasattr(os, "O_NOFOLLOW")


def files_root(settings: Settings) -> Path:
    """The allowed directory, resolved; refused when WAHA_MCP_FILES_DIR is unset."""
    if not settings.files_dir:
        raise ToolInputError(
            "local files are disabled: set WAHA_MCP_FILES_DIR to a directory the server may use, "
            "or pass a URL or base64 data instead"
        )
    return Path(settings.files_dir).expanduser().resolve()


def inside_path(settings: Settings, path: str | os.PathLike[str]) -> tuple[Path, tuple[str, ...]]:
    """The directory and the components of `path` below it, worked out from the text alone (relative
    paths are taken from the directory; `..` may not climb out of it). Nothing on disk is followed."""
    root = files_root(settings)
    raw = os.fspath(path).strip()
    shown = repr(raw)[:80]
    if not raw or "\x00" in raw:
        raise ToolInputError(f"file path {shown} is not a valid path")
    try:
        given = Path(raw).expanduser()
    except RuntimeError:  # `~user` unknown
        raise ToolInputError(f"file path {shown} cannot be used: unknown user") from None
    relative: str | None = os.fspath(given)
    if given.is_absolute():
        # The configured spelling of the directory, or its real one, may start the path.
        relative = None
        for base in dict.fromkeys((root, Path(os.path.abspath(Path(settings.files_dir or "").expanduser())))):
            if given.is_relative_to(base):
                relative = os.fspath(given.relative_to(base))
                break
    parts = PurePosixPath(os.path.normpath(relative)).parts if relative is not None else ("..",)
    if parts and parts[0] == "..":
        raise ToolInputError(
            f"file {shown} is outside WAHA_MCP_FILES_DIR ({root}): only files in that directory can be sent"
        )
    if parts in ((), (".",)):
        raise ToolInputError(f"{shown} is not a regular file")
    return root, parts


def read_local_file(settings: Settings, path: str | os.PathLike[str]) -> tuple[Path, bytes]:
    """The file's path in WAHA_MCP_FILES_DIR and its bytes, refused above WAHA_MCP_MAX_MEDIA_BYTES before
    reading; opened once, following no link, and read from what was opened."""
    root, parts = inside_path(settings, path)
    shown = repr(os.fspath(path).strip())[:80]
    limit = settings.max_media_bytes
    fd = _open_inside(root, parts, shown)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ToolInputError(f"{shown} is not a regular file")
        if info.st_nlink > 1:
            raise ToolInputError(
                f"file {shown} has {info.st_nlink - 1} other hard link(s): refused, since the same file may "
                f"be reachable outside WAHA_MCP_FILES_DIR; {_LINKS_REFUSED}"
            )
        if info.st_size > limit:
            raise ToolInputError(
                f"file {parts[-1]} is {info.st_size} bytes, over the {limit}-byte limit (WAHA_MCP_MAX_MEDIA_BYTES)"
            )
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # grew since fstat
                raise ToolInputError(f"file {parts[-1]} is over the {limit}-byte limit (WAHA_MCP_MAX_MEDIA_BYTES)")
    except OSError as exc:
        raise ToolInputError(f"file {shown} cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    return root.joinpath(*parts), b"".join(chunks)


def _open_inside(root: Path, parts: tuple[str, ...], shown: str) -> int:
    """A descriptor for `root/parts...`, each directory opened relative to the previous one's descriptor."""
    if not _CAN_OPEN_SAFELY:
        raise ToolInputError("local files need a system that can open files without following links (POSIX)")
    try:
        current = os.open(root, _DIR_FLAGS)
    except OSError as exc:
        raise ToolInputError(f"WAHA_MCP_FILES_DIR ({root}) cannot be opened: {exc.strerror or exc}") from None
    try:
        for index, name in enumerate(parts):
            last = index == len(parts) - 1
            try:
                opened = os.open(name, _FILE_FLAGS if last else _DIR_FLAGS, dir_fd=current)
            except OSError as exc:
                raise _refusal(exc, root, shown, last) from None
            os.close(current)
            current = opened
    except BaseException:
        os.close(current)
        raise
    return current


def _refusal(exc: OSError, root: Path, shown: str, last: bool) -> ToolInputError:
    code = exc.errno
    if code == errno.ELOOP or (code == errno.ENOTDIR and not last):
        # O_NOFOLLOW met a link (ENOTDIR: a link or a file where a directory was expected).
        return ToolInputError(
            f"file {shown} is, or goes through, a symbolic link or not a directory: links are not followed "
            f"in WAHA_MCP_FILES_DIR; {_LINKS_REFUSED}"
        )
    if code == errno.ENOENT:
        return ToolInputError(f"file {shown} does not exist in WAHA_MCP_FILES_DIR ({root})")
    return ToolInputError(f"file path {shown} cannot be used: {exc.strerror or exc}")


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

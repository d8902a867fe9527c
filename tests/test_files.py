"""Local files: only inside WAHA_MCP_FILES_DIR, after symlinks and `..` are resolved."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from waha_mcp.config import Settings, load_settings
from waha_mcp.errors import ToolInputError
from waha_mcp.files import read_local_file, resolve_local_path, safe_filename, save_file


@pytest.fixture
def root(tmp_path: Path) -> Path:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "photo.jpg").write_bytes(b"\xff\xd8\xff" + b"x" * 100)
    (allowed / "sub").mkdir()
    (allowed / "sub" / "doc.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "secret.txt").write_text("do not send")
    return allowed


@pytest.fixture
def settings(root: Path) -> Settings:
    return load_settings(WAHA_BASE_URL="http://x", WAHA_MCP_FILES_DIR=str(root), WAHA_MCP_MAX_MEDIA_BYTES=2048)


def test_relative_and_absolute_paths_inside_the_directory_are_allowed(settings: Settings, root: Path) -> None:
    assert resolve_local_path(settings, "photo.jpg") == (root / "photo.jpg").resolve()
    assert resolve_local_path(settings, "sub/doc.pdf") == (root / "sub" / "doc.pdf").resolve()
    assert resolve_local_path(settings, str(root / "sub" / "doc.pdf")) == (root / "sub" / "doc.pdf").resolve()
    # `..` that stays inside is fine: the resolved path is what counts.
    assert resolve_local_path(settings, "sub/../photo.jpg") == (root / "photo.jpg").resolve()


def test_dot_dot_escape_is_refused_with_the_reason(settings: Settings, root: Path) -> None:
    with pytest.raises(ToolInputError, match="outside WAHA_MCP_FILES_DIR"):
        resolve_local_path(settings, "../secret.txt")
    with pytest.raises(ToolInputError, match="outside WAHA_MCP_FILES_DIR"):
        resolve_local_path(settings, str(root.parent / "secret.txt"))
    with pytest.raises(ToolInputError, match="outside WAHA_MCP_FILES_DIR"):
        resolve_local_path(settings, "/etc/passwd")


def test_symlink_pointing_outside_is_refused(settings: Settings, root: Path) -> None:
    (root / "innocent.txt").symlink_to(root.parent / "secret.txt")
    (root / "escape_dir").symlink_to(root.parent, target_is_directory=True)
    with pytest.raises(ToolInputError, match="outside WAHA_MCP_FILES_DIR"):
        resolve_local_path(settings, "innocent.txt")
    with pytest.raises(ToolInputError, match="outside WAHA_MCP_FILES_DIR"):
        resolve_local_path(settings, "escape_dir/secret.txt")


def test_symlink_inside_the_directory_is_followed(settings: Settings, root: Path) -> None:
    (root / "alias.jpg").symlink_to(root / "photo.jpg")
    assert resolve_local_path(settings, "alias.jpg") == (root / "photo.jpg").resolve()


def test_allowed_directory_reached_through_a_symlink_still_works(tmp_path: Path, root: Path) -> None:
    link = tmp_path / "link-to-allowed"
    link.symlink_to(root, target_is_directory=True)
    settings = load_settings(WAHA_BASE_URL="http://x", WAHA_MCP_FILES_DIR=str(link))
    assert resolve_local_path(settings, "photo.jpg") == (root / "photo.jpg").resolve()


def test_unset_directory_refuses_every_local_file(root: Path) -> None:
    settings = load_settings(WAHA_BASE_URL="http://x")
    with pytest.raises(ToolInputError, match="local files are disabled: set WAHA_MCP_FILES_DIR"):
        resolve_local_path(settings, str(root / "photo.jpg"))
    with pytest.raises(ToolInputError, match="WAHA_MCP_FILES_DIR"):
        save_file(settings, "x.txt", b"data")


def test_missing_files_and_directories_are_refused(settings: Settings) -> None:
    with pytest.raises(ToolInputError, match="does not exist"):
        resolve_local_path(settings, "nope.png")
    with pytest.raises(ToolInputError, match="not a regular file"):
        resolve_local_path(settings, "sub")
    with pytest.raises(ToolInputError, match="not a valid path"):
        resolve_local_path(settings, "  ")


def test_read_refuses_files_over_the_size_limit_before_reading(settings: Settings, root: Path) -> None:
    path, data = read_local_file(settings, "photo.jpg")
    assert data.startswith(b"\xff\xd8\xff") and path.name == "photo.jpg"
    (root / "big.bin").write_bytes(b"0" * 4096)
    with pytest.raises(ToolInputError, match=r"4096 bytes, over the 2048-byte limit \(WAHA_MCP_MAX_MEDIA_BYTES\)"):
        read_local_file(settings, "big.bin")


def test_safe_filename_keeps_one_harmless_component() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("..\\..\\boot.ini") == "boot.ini"
    assert safe_filename("my report (final).pdf") == "my_report_final.pdf"
    assert safe_filename(".bashrc") == "file.bashrc"  # never a hidden file
    assert safe_filename("") == "file"
    assert safe_filename(None) == "file"
    assert safe_filename("résumé.docx") == "r_sum.docx"
    assert len(safe_filename("a" * 500 + ".txt")) <= 120


def test_save_file_writes_inside_with_unique_names(settings: Settings, root: Path) -> None:
    first = save_file(settings, "voice.ogg", b"one")
    second = save_file(settings, "voice.ogg", b"two")
    assert first.parent == root.resolve() and second.parent == root.resolve()
    assert first.name == "voice.ogg" and second != first and second.suffix == ".ogg"
    assert first.read_bytes() == b"one" and second.read_bytes() == b"two"
    escaped = save_file(settings, "../../outside.txt", b"x")
    assert escaped.parent == root.resolve() and escaped.name == "outside.txt"
    assert not (root.parent / "outside.txt").exists()


def test_save_file_never_writes_through_a_planted_symlink(settings: Settings, root: Path) -> None:
    target = root.parent / "victim.txt"
    (root / "note.txt").symlink_to(target)  # dangling: would create victim.txt if followed
    saved = save_file(settings, "note.txt", b"payload")
    assert saved.name != "note.txt" and saved.read_bytes() == b"payload"
    assert not target.exists()


def test_save_file_creates_the_directory(tmp_path: Path) -> None:
    settings = load_settings(WAHA_BASE_URL="http://x", WAHA_MCP_FILES_DIR=str(tmp_path / "new" / "dir"))
    saved = save_file(settings, "a.bin", b"\x00")
    assert saved.exists() and os.fspath(saved).startswith(os.fspath((tmp_path / "new" / "dir").resolve()))

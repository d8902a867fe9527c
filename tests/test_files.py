"""Local files: only inside WAHA_MCP_FILES_DIR, opened without following links, hard links refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from waha_mcp.config import Settings, load_settings
from waha_mcp.errors import ToolInputError
from waha_mcp.files import read_local_file, safe_filename, save_file


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


def path_of(settings: Settings, path: str) -> Path:
    return read_local_file(settings, path)[0]


def test_relative_and_absolute_paths_inside_the_directory_are_allowed(settings: Settings, root: Path) -> None:
    assert read_local_file(settings, "photo.jpg") == (root / "photo.jpg", (root / "photo.jpg").read_bytes())
    assert path_of(settings, "sub/doc.pdf") == root / "sub" / "doc.pdf"
    assert read_local_file(settings, str(root / "sub" / "doc.pdf"))[1] == b"%PDF-1.4"
    # `..` that stays inside is fine.
    assert path_of(settings, "sub/../photo.jpg") == root / "photo.jpg"
    assert path_of(settings, "./sub//doc.pdf") == root / "sub" / "doc.pdf"


def test_dot_dot_escape_is_refused_with_the_reason(settings: Settings, root: Path) -> None:
    for path in ["../secret.txt", str(root.parent / "secret.txt"), "/etc/passwd", "sub/../../secret.txt"]:
        with pytest.raises(ToolInputError, match="outside WAHA_MCP_FILES_DIR") as info:
            read_local_file(settings, path)
        assert str(root.parent / "secret.txt") not in str(info.value) or path.startswith("/")


def test_symlinks_are_never_followed_and_never_explained_by_their_target(
    settings: Settings, root: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.txt").write_text("do not send")
    (root / "innocent.txt").symlink_to(elsewhere / "secret.txt")
    (root / "escape_dir").symlink_to(elsewhere, target_is_directory=True)
    (root / "alias.jpg").symlink_to(root / "photo.jpg")  # even a link that stays inside
    for path in ["innocent.txt", "escape_dir/secret.txt", "alias.jpg", str(root / "innocent.txt")]:
        with pytest.raises(ToolInputError, match="symbolic link") as info:
            read_local_file(settings, path)
        assert str(elsewhere) not in str(info.value) and "do not send" not in str(info.value)


def test_hard_links_are_refused(settings: Settings, root: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.txt").write_text("do not send")
    os.link(elsewhere / "secret.txt", root / "hard.txt")
    with pytest.raises(ToolInputError, match="hard link") as info:
        read_local_file(settings, "hard.txt")
    assert str(elsewhere) not in str(info.value)


def test_allowed_directory_reached_through_a_symlink_still_works(tmp_path: Path, root: Path) -> None:
    link = tmp_path / "link-to-allowed"
    link.symlink_to(root, target_is_directory=True)
    settings = load_settings(WAHA_BASE_URL="http://x", WAHA_MCP_FILES_DIR=str(link))
    assert path_of(settings, "photo.jpg") == root / "photo.jpg"
    # An absolute path may use either spelling of the directory.
    assert path_of(settings, str(link / "photo.jpg")) == root / "photo.jpg"
    assert path_of(settings, str(root / "photo.jpg")) == root / "photo.jpg"


def test_unset_directory_refuses_every_local_file(root: Path) -> None:
    settings = load_settings(WAHA_BASE_URL="http://x")
    with pytest.raises(ToolInputError, match="local files are disabled: set WAHA_MCP_FILES_DIR"):
        read_local_file(settings, str(root / "photo.jpg"))
    with pytest.raises(ToolInputError, match="WAHA_MCP_FILES_DIR"):
        save_file(settings, "x.txt", b"data")


def test_missing_files_and_directories_are_refused(settings: Settings, root: Path) -> None:
    with pytest.raises(ToolInputError, match="does not exist"):
        read_local_file(settings, "nope.png")
    with pytest.raises(ToolInputError, match="does not exist"):
        read_local_file(settings, "nodir/x.png")
    with pytest.raises(ToolInputError, match="not a regular file"):
        read_local_file(settings, "sub")
    with pytest.raises(ToolInputError, match="not a regular file"):
        read_local_file(settings, ".")
    with pytest.raises(ToolInputError, match="not a valid path"):
        read_local_file(settings, "  ")
    os.mkfifo(root / "pipe")
    with pytest.raises(ToolInputError, match="not a regular file"):
        read_local_file(settings, "pipe")  # refused, not waited on


def test_a_file_swapped_for_a_link_after_any_check_is_not_followed(
    settings: Settings, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race, made deterministic: the file becomes a link to a secret at the first stat of any kind
    of the file (where a check-then-read checks), and at the final open (where it could slip in)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.txt").write_text("do not send")
    victim = root / "photo.jpg"
    original = victim.read_bytes()

    swapped: list[bool] = []

    def swap() -> None:
        if not swapped:
            swapped.append(True)
            victim.unlink()
            victim.symlink_to(elsewhere / "secret.txt")

    real_stat, real_fstat = os.stat, os.fstat

    def stat_then_swap(*args: object, **kwargs: object) -> os.stat_result:
        result = real_stat(*args, **kwargs)  # type: ignore[arg-type]
        if isinstance(args[0], str | os.PathLike) and os.fspath(args[0]) == os.fspath(victim):
            swap()
        return result

    def fstat_then_swap(*args: object, **kwargs: object) -> os.stat_result:
        result = real_fstat(*args, **kwargs)  # type: ignore[arg-type]
        swap()
        return result

    monkeypatch.setattr(os, "stat", stat_then_swap)
    monkeypatch.setattr(os, "fstat", fstat_then_swap)
    _, data = read_local_file(settings, "photo.jpg")
    monkeypatch.undo()
    assert swapped and victim.is_symlink() and data == original  # what was opened is what was read

    victim.unlink()
    victim.write_bytes(original)
    swapped.clear()
    real_open = os.open

    def swap_then_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if path == "photo.jpg":
            swap()
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", swap_then_open)
    with pytest.raises(ToolInputError, match="symbolic link") as info:
        read_local_file(settings, "photo.jpg")
    assert str(elsewhere) not in str(info.value)


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

"""Privacy at rest: sagecoach's state is readable by its owner only.

The state directory holds conversations (every message typed), the audit log, the ledger,
prompt history and exports. Directories are created 0700 and files 0600 (created so, never
chmod-ed after the fact, so there is no window where they are world-readable), and
`secure_tree` repairs what an older version or another tool left open, once per start.
SQLite creates its -wal and -shm files with the database file's mode, so creating the
database file 0600 first covers them.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import IO

DIR_MODE = 0o700
FILE_MODE = 0o600
MAX_FIX_ENTRIES = 20_000  # a start-up repair never walks an unbounded tree


def private_dir(path: Path | str) -> Path:
    """Create `path` (and missing parents) 0700; tighten it when it exists and is ours."""
    path = Path(path)
    missing: list[Path] = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):  # mkdir(parents=True) would ignore the mode for parents
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=DIR_MODE)
        _tighten(directory, DIR_MODE)
    _tighten(path, DIR_MODE)
    return path


def private_file(path: Path | str) -> Path:
    """Make sure `path` exists as a 0600 file (created so when missing) in a 0700 directory."""
    path = Path(path)
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    os.close(fd)
    _tighten(path, FILE_MODE)
    return path


def open_private(path: Path | str, mode: str = "a", encoding: str = "utf-8") -> IO[str]:
    """open() for text files that must stay private: created 0600 (append or write)."""
    path = Path(path)
    private_dir(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode.startswith("a") else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    _tighten(path, FILE_MODE)
    return os.fdopen(fd, mode, encoding=encoding)


def write_private(
    path: Path | str, text: str, encoding: str = "utf-8", *, own_dir: bool = True
) -> Path:
    """Replace a file's content atomically; the new file is 0600 from its first byte.

    own_dir=False for a place the person chose (their folder keeps its mode)."""
    path = Path(path)
    if own_dir:
        private_dir(path.parent)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding=encoding) as handle:  # mkstemp files are 0600
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def _tighten(path: Path, wanted: int) -> bool:
    """Drop group/other bits of something we own; True when it changed."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if stat.S_ISLNK(st.st_mode) or st.st_uid != os.getuid():
        return False
    mode = stat.S_IMODE(st.st_mode)
    # Keep the owner's execute bit on files (scripts), drop everything for group and other.
    new = (mode & 0o700) | (wanted & 0o700)
    if stat.S_ISREG(st.st_mode) and wanted == FILE_MODE:
        new = (mode & 0o700) | 0o600
    if new == mode:
        return False
    try:
        os.chmod(path, new)
    except OSError:
        return False
    return True


def secure_tree(root: Path | str) -> list[str]:
    """Make `root` 0700 and everything under it owner-only; returns the paths it fixed.

    Symlinks are not followed; walking stops after MAX_FIX_ENTRIES entries."""
    root = Path(root)
    fixed: list[str] = []
    if not root.exists():
        private_dir(root)
        return fixed
    if _tighten(root, DIR_MODE):
        fixed.append(str(root))
    seen = 0
    for current, dirs, files in os.walk(root, followlinks=False):
        for name in dirs:
            seen += 1
            if _tighten(Path(current) / name, DIR_MODE):
                fixed.append(os.path.join(current, name))
        for name in files:
            seen += 1
            if _tighten(Path(current) / name, FILE_MODE):
                fixed.append(os.path.join(current, name))
        if seen > MAX_FIX_ENTRIES:
            break
    return fixed


def is_private(path: Path | str) -> bool:
    """True when neither group nor others can read, write or enter `path`."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0
    except OSError:
        return False

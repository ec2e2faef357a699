"""Run a user script with /opt/ml/... mapped to a job directory, without root or Docker:

    python -m sandbox.engine.pathmap <job dir> <script.py> [args...]

Python's own file functions (open, os.*, os.path.*, pathlib, shutil, glob, and libraries that
open files through them, such as pandas, numpy and joblib) see `/opt/ml/x` as `<job dir>/x`.
What cannot be mapped this way: native code that opens paths itself (e.g. pyarrow's file
readers), and other programs the script starts. Those should use the SM_* / environment paths,
which hold the real directories.
"""

from __future__ import annotations

import builtins
import functools
import io
import os
import runpy
import sys
from collections.abc import Callable
from typing import Any

VIRTUAL_ROOT = "/opt/ml"


def _mapper(root: str) -> Callable[[Any], Any]:
    root = root.rstrip("/")

    def map_path(path: Any) -> Any:
        if isinstance(path, int):
            return path
        text = os.fspath(path) if hasattr(path, "__fspath__") else path
        if isinstance(text, bytes):
            if text == VIRTUAL_ROOT.encode() or text.startswith(VIRTUAL_ROOT.encode() + b"/"):
                return root.encode() + text[len(VIRTUAL_ROOT) :]
            return path
        if isinstance(text, str) and (text == VIRTUAL_ROOT or text.startswith(VIRTUAL_ROOT + "/")):
            return root + text[len(VIRTUAL_ROOT) :]
        return path

    return map_path


def _wrap_first(fn: Callable[..., Any], map_path: Callable[[Any], Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(path: Any = None, *args: Any, **kwargs: Any) -> Any:
        if path is None and not args and "path" not in kwargs:
            return fn(*args, **kwargs)
        return fn(map_path(path), *args, **kwargs)

    return wrapper


def _wrap_two(fn: Callable[..., Any], map_path: Callable[[Any], Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(src: Any, dst: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(map_path(src), map_path(dst), *args, **kwargs)

    return wrapper


def install(root: str) -> None:
    """Patch the file functions of this interpreter (the script's own process only)."""
    map_path = _mapper(root)
    for name in ("stat", "lstat", "open", "listdir", "scandir", "mkdir", "remove", "unlink",
                 "rmdir", "chdir", "access", "chmod", "utime", "truncate", "readlink"):  # fmt: skip
        original = getattr(os, name, None)
        if original is not None:
            setattr(os, name, _wrap_first(original, map_path))
    for name in ("rename", "replace", "link", "symlink"):
        original = getattr(os, name, None)
        if original is not None:
            setattr(os, name, _wrap_two(original, map_path))
    opener = _wrap_first(io.open, map_path)
    builtins.open = opener
    io.open = opener


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        raise SystemExit("usage: python -m sandbox.engine.pathmap <job dir> <script.py> [args]")
    root, script, *args = argv
    install(root)
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])

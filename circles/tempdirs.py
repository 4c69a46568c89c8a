"""Temporary folders and files circles writes before publishing, and their clean-up.

A temporary entry is named ``.circles-tmp-<pid>-<start>-<random>``: the process that
owns it and when that process started (to tell a reused process id from the owner).
A later run removes such entries once their owner is dead; a folder only when it is
empty or carries a circles marker, so that nothing else is ever deleted.

A folder is published by swapping it with the old one in one step (Linux
``renameat2(RENAME_EXCHANGE)``); elsewhere by two renames, the old folder kept as
``.circles-old-...`` until the new one is in place, and put back by a later run if the
writer died in between.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import secrets
import shutil
import sys
from functools import cache
from pathlib import Path

TEMP_PREFIX = ".circles-tmp-"
OLD_PREFIX = ".circles-old-"
_DEBRIS = re.compile(r"^\.circles-(tmp|old)-(\d+)-(\d+)-([0-9a-f]+)(\..*)?$")


def _own_start() -> int:
    """Start time of the running process, cached by process id (a forked worker inherits the cache)."""
    return _cached_start(os.getpid())


@cache
def _cached_start(pid: int) -> int:
    return _start_time(pid) or 0


def _start_time(pid: int) -> int | None:
    """A process's start time in hundredths of a second since the epoch, or None if it is gone."""
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return int(proc.create_time() * 100)
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def writer_identity() -> dict:
    """``{"pid": ..., "started": ...}`` of this process (recorded in markers)."""
    return {"pid": os.getpid(), "started": _own_start()}


def temp_name(prefix: str = TEMP_PREFIX, suffix: str = "") -> str:
    """A fresh temporary name owned by this process."""
    return f"{prefix}{os.getpid()}-{_own_start()}-{secrets.token_hex(4)}{suffix}"


def new_temp_dir(parent: Path) -> Path:
    """Create a temporary folder owned by this process in ``parent`` (mode 0700)."""
    for _ in range(100):
        path = Path(parent) / temp_name()
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(parent))


def atomic_write_text(path: Path, text: str) -> None:
    """Write a text file through a temporary sibling and rename it into place."""
    path = Path(path)
    tmp = path.parent / temp_name(suffix=".part")
    try:
        with open(tmp, "x", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def owner_alive(name: str) -> bool:
    """Whether the process named in a temporary entry's name is still running (True if unsure)."""
    m = _DEBRIS.match(name)
    if m is None:
        return True
    pid, started = int(m.group(2)), int(m.group(3))
    return _start_time(pid) == started


def remove_circles_dir(path: Path, marker_name: str) -> None:
    """Remove a folder circles wrote, its marker last (so a half-removed folder stays recognisable)."""
    path = Path(path)
    try:
        entries = os.listdir(path)
    except FileNotFoundError:
        return
    for entry in entries:
        if entry == marker_name:
            continue
        p = path / entry
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    (path / marker_name).unlink(missing_ok=True)
    with contextlib.suppress(FileNotFoundError):
        os.rmdir(path)


def clean_debris(parent: Path, marker_name: str) -> list[str]:
    """Remove (or put back) what killed circles runs left in ``parent``.

    Parameters
    ----------
    parent : Path
        A folder circles writes into.
    marker_name : str
        The marker file that proves a folder is circles'.

    Returns
    -------
    list of str
        The entries removed or restored.
    """
    try:
        names = sorted(os.listdir(parent))
    except OSError:
        return []
    done = []
    debris = [n for n in names if _DEBRIS.match(n) and not owner_alive(n)]
    for name in sorted(debris, key=lambda n: not n.startswith(OLD_PREFIX)):  # old folders first
        path = Path(parent) / name
        try:
            if _clean_one(path, marker_name):
                done.append(name)
        except OSError:
            continue  # another run cleans it, or it is not ours to clean
    return done


def _clean_one(path: Path, marker_name: str) -> bool:
    if path.is_symlink() or path.is_file():
        path.unlink()
        return True
    if not path.is_dir():
        return False
    entries = os.listdir(path)
    if entries and marker_name not in entries:
        return False  # not provably circles': leave it
    if path.name.startswith(OLD_PREFIX):
        partner = path.with_name(TEMP_PREFIX + path.name[len(OLD_PREFIX) :])
        target = _target_of(partner, marker_name)
        if target is not None and not target.exists():
            os.rename(path, target)  # the writer died between its two renames: put the old folder back
            remove_circles_dir(partner, marker_name)
            return True
    remove_circles_dir(path, marker_name)
    return True


def _target_of(temp: Path, marker_name: str) -> Path | None:
    import json

    try:
        folder = json.loads((temp / marker_name).read_text(encoding="utf-8"))["folder"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return temp.parent / folder if isinstance(folder, str) and "/" not in folder else None


def replace_dir(new: Path, target: Path, marker_name: str) -> None:
    """Put folder ``new`` in place of ``target`` (same parent), removing the old one after.

    Parameters
    ----------
    new : Path
        The finished temporary folder.
    target : Path
        The folder to create or replace (resolved, no symbolic link).
    marker_name : str
        The marker, removed last from the old folder.
    """
    if not target.exists():
        os.rename(new, target)
        return
    if _exchange(new, target):
        remove_circles_dir(new, marker_name)  # ``new`` now holds the old folder
        return
    old = new.with_name(OLD_PREFIX + new.name[len(TEMP_PREFIX) :])
    os.rename(target, old)
    try:
        os.rename(new, target)
    except OSError:
        os.rename(old, target)
        raise
    remove_circles_dir(old, marker_name)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False  # the file system cannot swap: fall back to two renames
    raise OSError(err, os.strerror(err), str(a), None, str(b))

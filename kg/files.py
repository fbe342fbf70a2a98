"""Files written all or none: the atomic writer every stage that writes a file uses (exports and reports, the
build cache and kg ask's saved index, the enrichment cache, the ontology documentation, a store's build key),
and the keys and pickled entries of those caches."""

from __future__ import annotations

import hashlib
import os
import pickle
import secrets
import shutil
import stat
from collections.abc import Callable, Collection, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import TypeVar

from kg.errors import OutputError

T = TypeVar("T")


def files_key(head: str, files: Iterable[tuple[str, Path]]) -> str:
    """SHA-256 over `head` and each (name, file) of `files`: the name and the file's bytes (a missing file counts
    too): the key of a cache entry made from those files."""
    digest = hashlib.sha256(f"{head}\0".encode())
    for name, path in files:
        digest.update(f"{name}\0".encode())
        digest.update(path.read_bytes() if path.is_file() else b"\0missing\0")
        digest.update(b"\0")
    return digest.hexdigest()


def read_cached(path: Path, kind: type[T]) -> T | None:
    """The `kind` pickled at `path` by write_cached, else None (absent, unreadable, or of another kind)."""
    try:
        with path.open("rb") as stream:
            found = pickle.load(stream)
    except Exception:  # unpickling bytes that are not a pickle may raise nearly anything (ValueError, KeyError...)
        return None
    return found if isinstance(found, kind) else None


def write_cached(path: Path, value: object) -> None:
    """Pickle `value` to `path` atomically and remove the other pickles of its directory: a cache that keeps
    the entry of the current key only."""
    write_atomic(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    for stale in path.parent.glob("*.pickle"):
        if stale != path:
            stale.unlink(missing_ok=True)


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically (see write_all_atomic)."""
    write_all_atomic({path: lambda: data})


def write_all_atomic(files: Mapping[Path, Callable[[], bytes]], remove: Collection[Path] = ()) -> None:
    """Write each file of `files` (path -> its content, made when its turn comes) and remove each file of
    `remove`, all or none: each content goes to a temporary file beside its target; only once all are written
    are they moved over their targets (os.replace), the replaced and removed files kept meanwhile as backups
    (hard links); if a move fails, the moves made are undone from the backups and the new files removed, so a
    failure (the data, the disk) leaves every target as it was. The backups go once every move succeeded. (A
    process killed between two moves can still leave some files moved: that would need one directory swapped.)

    A symbolic link is followed (the file it names is replaced, the link kept); a FIFO or a device is written
    in place, after the moves, and cannot be undone. A new file gets the mode the umask gives; a replaced one
    keeps its mode. An OS failure (no such directory, a file where a directory should be, no permission, disk
    full) raises OutputError naming the path.
    """
    staged: list[tuple[str, Path]] = []  # (temporary file, target)
    in_place: list[tuple[Path, bytes]] = []
    moved: list[tuple[Path | None, Path]] = []  # (backup of its previous file or None if it had none, target)
    current, doing = None, "write"
    try:
        for current, content in files.items():
            if current.is_dir():
                raise OutputError(f"cannot write {current}: it is a directory")
            if _write_through(current):
                in_place.append((current, content()))
                continue
            target = current.resolve() if current.is_symlink() else current
            staged.append((_staged(target, content()), target))
        for temporary, current in staged:
            _change(current, partial(os.replace, temporary, current), moved)
        doing = "remove"
        for current in remove:
            _change(current, current.unlink, moved)
        doing = "write"
        for current, data in in_place:
            current.write_bytes(data)
    except BaseException as exc:
        unrestored = _undo(moved)
        moved = []  # (the backups of files not put back stay, named in the message)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot {doing} {current}: {exc.strerror or exc}{unrestored}") from None
        raise
    finally:
        for temporary, _ in staged:
            Path(temporary).unlink(missing_ok=True)
        for backup, _ in moved:
            if backup is not None:
                backup.unlink()


def _change(target: Path, change: Callable[[], None], moved: list[tuple[Path | None, Path]]) -> None:
    """Run `change`, which replaces or removes `target`, keeping the file `target` names now as a backup; once
    done, (the backup or None if there was no file, target) is added to `moved`."""
    backup = _backup(target) if target.exists() else None
    try:
        change()
    except BaseException:
        if backup is not None:
            backup.unlink(missing_ok=True)
        raise
    moved.append((backup, target))


def _backup(path: Path) -> Path:
    """A new name beside `path` for the file it names now (a hard link; a copy where the file system has none; a
    symbolic link is kept as a link)."""
    backup = path.parent / f".{path.name}.{secrets.token_hex(6)}.bak"
    try:
        os.link(path, backup, follow_symlinks=False)
    except OSError:
        shutil.copy2(path, backup, follow_symlinks=False)
    return backup


def _undo(moved: list[tuple[Path | None, Path]]) -> str:
    """Put back the files `moved` replaced or removed (each from its backup) and remove the ones it created; what
    could not be put back, for the error message ("" if all were)."""
    unrestored = []
    for backup, target in reversed(moved):
        try:
            if backup is None:
                target.unlink(missing_ok=True)
            else:
                os.replace(backup, target)
        except OSError as exc:
            kept = f"(its previous content is in {backup})" if backup is not None else "(a new file)"
            unrestored.append(f"{target} {kept}: {exc.strerror or exc}")
    return f"; and could not undo {'; '.join(unrestored)}" if unrestored else ""


def _staged(target: Path, data: bytes) -> str:
    """`data` written and synced to a new temporary file beside `target`, with the mode `target` has (or the
    umask gives); its name."""
    blocking = next((p for p in (target.parent, *target.parent.parents) if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise OutputError(f"cannot write {target}: {blocking} is a file, not a directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    # os.open's mode goes through the umask, as a new file's should (mkstemp makes every file 0600)
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if target.exists():
            os.chmod(temporary, stat.S_IMODE(target.stat().st_mode))
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return str(temporary)


def _write_through(path: Path) -> bool:
    """Whether `path` is written in place: an existing file that is not a regular one (a FIFO, a device,
    /dev/stdout), which cannot be replaced atomically and must not be replaced at all."""
    try:
        return path.exists() and not stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False

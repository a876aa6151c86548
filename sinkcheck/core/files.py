"""Where output may go, and the one way to write it (docs/commands.md, "Output directories").

Nothing a user owns is ever deleted or changed. An output directory is new, empty, or one that
sinkcheck wrote before: such a directory carries a marker file, :data:`~sinkcheck.core.marker.MARKER`, naming the command
that wrote it and every file it wrote with its SHA-256. A later run of the same command replaces
only those files, and refuses up front when one of them was changed since (``--force`` allows
that); every other file in the directory is never touched. A non-empty directory without the
marker, a file, ``.``, ``..``, any ancestor of the working directory, the home directory and a
filesystem root are refused before any work starts.

Output is staged in a hidden directory and moved into place only when the whole run succeeded,
in one transaction that is rolled back on any error or Ctrl-C (:mod:`sinkcheck.core.transaction`),
so no partial output is left.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
from pathlib import Path
from typing import Iterator

from sinkcheck.core.marker import (MARKER, OWN_NAMES, STAGE_PREFIX, Manifest, fail, files_under, read_manifest, sha256,
                                   write_marker)
from sinkcheck.core.transaction import Transaction, remove_own

_HELD: set[tuple[str, str | None]] = set()
"""The locks (directory, name) this process holds."""


def refuse_special(path: Path, option: str) -> None:
    """Refuse a filesystem root, the home directory, the working directory and its ancestors."""
    resolved = path.resolve()
    try:
        cwd = Path.cwd().resolve()
    except OSError:  # the working directory was removed
        cwd = None
    if resolved.parent == resolved:
        raise fail(option, "must not be a filesystem root", path)
    if resolved == Path.home().resolve():
        raise fail(option, "must not be the home directory", path)
    if cwd is not None and cwd.is_relative_to(resolved):
        raise fail(option, "must not be the working directory or one of its ancestors", path)
    if path.name in (".", ".."):
        raise fail(option, "must not end in . or ..", path)


def writable(directory: Path) -> bool:
    """Whether this process may create files in ``directory``."""
    return os.access(directory, os.W_OK | os.X_OK)


def _writable_parent(path: Path, option: str) -> None:
    parent = path.absolute().parent
    if not parent.is_dir():
        raise fail(option, "must be in an existing directory", path)
    if not writable(parent):
        raise fail(option, "must be in a writable directory", path)


# ---- output directories -------------------------------------------------------------------------

class OutputDir:
    """An output directory of ``command`` (e.g. "report", "train lm", "sweep"), checked when made.

    ``force`` allows replacing this command's own files that were changed since it wrote them;
    nothing else is ever replaced or removed. :meth:`staged` writes a whole output (or the part
    named by ``scope``) atomically; :meth:`create` and :meth:`lock` serve commands that write into
    the directory as they go (a sweep's database)."""

    def __init__(self, path: str | Path, command: str, *, option: str = "--out", force: bool = False):
        self.path, self.command, self.option, self.force = Path(path), command, option, force
        self.check()

    def __repr__(self) -> str:
        return f"OutputDir({str(self.path)!r}, {self.command!r})"

    def check(self) -> Manifest | None:
        """Apply every rule of the module docstring; return the directory's marker, if any."""
        path, option = self.path, self.option
        if str(path).strip() == "":
            raise fail(option, "must name a directory", path)
        refuse_special(path, option)
        if path.is_symlink() and not path.exists():
            raise fail(option, "is a broken symbolic link", path)
        if not path.exists():
            _writable_parent(path, option)
            return None
        if not path.is_dir():
            raise fail(option, "must be a directory, not a file", path)
        if not writable(path):
            raise fail(option, "must be a writable directory", path)
        manifest = read_manifest(path, option)
        if manifest is None:
            foreign = [p for p in os.listdir(path) if not p.startswith(STAGE_PREFIX) and p not in OWN_NAMES]
            if foreign:
                raise fail(option, "is a non-empty directory that sinkcheck did not write (no "
                            f"{MARKER}); choose a new or empty directory", path)
            return None
        if manifest.command != self.command:
            raise fail(option, f"holds the output of `sinkcheck {manifest.command}`, not of "
                        f"`sinkcheck {self.command}`; choose another directory", path)
        for name, digest in sorted(manifest.files.items()):
            f = path / name
            if f.is_symlink() or (f.exists() and not f.is_file()):  # never replaced, even with --force
                raise fail(option, f"{name} is no longer the file sinkcheck wrote there; move it away", path)
            if not self.force and f.exists() and sha256(f) != digest:
                raise fail(option, f"{name} was changed since sinkcheck wrote it; move it away, or pass "
                            "--force to overwrite sinkcheck's own files", path)
        return manifest

    # ---- writing as one transaction ------------------------------------------------------------
    @contextlib.contextmanager
    def staged(self, scope: tuple[str, ...] | None = None) -> Iterator[Path]:
        """Yield an empty staging directory; when the block succeeds its files replace this
        command's earlier files in ``scope`` (top-level names; None: the whole output), and the
        staging directory is removed on any error. Files outside the marker are never touched."""
        self.check()
        exists = self.path.is_dir()
        base = self.path if exists else self.path.absolute().parent
        try:
            stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=base))
        except OSError as exc:
            raise fail(self.option, f"cannot write in {base} ({exc.strerror})", self.path) from None
        try:
            yield stage
            self._commit(stage, scope)
        finally:
            if stage.exists():
                remove_own(stage)

    def _commit(self, stage: Path, scope: tuple[str, ...] | None) -> None:
        digests = {name: sha256(stage / name) for name in files_under(stage)}
        if not self.path.exists():
            from sinkcheck import __version__

            write_marker(stage, Manifest(self.command, __version__, digests))
            try:
                os.rename(stage, self.path)
                return
            except OSError as exc:  # created meanwhile: go on as into an existing directory
                if not self.path.is_dir():
                    raise fail(self.option, f"cannot create it ({exc.strerror})", self.path) from None
                (stage / MARKER).unlink()
        with self.lock():
            manifest = self.check()
            Transaction(self.path, stage, manifest, scope, digests, self.command, self.option).run()

    # ---- writing as one goes -------------------------------------------------------------------
    def create(self) -> None:
        """Make the directory (and its marker) if it has none yet, for commands that write into it
        as they go; :meth:`staged` still writes the files the marker lists."""
        manifest = self.check()
        if manifest is not None:
            return
        from sinkcheck import __version__

        try:
            self.path.mkdir(exist_ok=True)
            write_marker(self.path, Manifest(self.command, __version__, {}))
        except OSError as exc:
            raise fail(self.option, f"cannot create it ({exc.strerror})", self.path) from None

    @contextlib.contextmanager
    def lock(self, name: str | None = None) -> Iterator[None]:
        """Hold an advisory lock (``flock``) or refuse: on the directory itself (``name`` None; no
        file is made), held while output is moved into place, or on the file ``name`` in it (one
        of :data:`~sinkcheck.core.marker.OWN_NAMES`, e.g. a sweep's :data:`~sinkcheck.core.marker.SWEEP_LOCK`), held for a whole run. Re-entrant
        within a process."""
        key = (str(self.path.resolve()), name)
        if key in _HELD:
            yield
            return
        try:
            if name is None:
                fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
            else:
                fd = os.open(self.path / name, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise fail(self.option, f"cannot lock it ({exc.strerror})", self.path) from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise fail(self.option, "is being written by another sinkcheck process; wait for it to "
                                "finish", self.path) from None
                raise
            _HELD.add(key)
            try:
                yield
            finally:
                _HELD.discard(key)
        finally:
            os.close(fd)

    def write_new(self, name: str, data: bytes) -> None:
        """Write ``data`` to the new file ``name`` (atomically). A file already there with the same
        bytes is left as it is; one with other bytes is not this command's and is refused."""
        target = self.path / name
        if target.exists() or target.is_symlink():
            if target.is_file() and not target.is_symlink() and target.read_bytes() == data:
                return
            raise fail(self.option, f"{name} exists and was not written by this command; move it away", self.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=STAGE_PREFIX, dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            remove_own(Path(tmp))
            raise


# ---- output files -------------------------------------------------------------------------------

class OutputFile:
    """A file a command writes (``--plot``, ``--save-instance``, ...), checked when made: its
    directory exists and is writable, it is not a directory, and it does not exist unless
    ``force`` (then it is replaced). ``suffixes`` restricts its extension."""

    def __init__(self, path: str | Path, option: str, *, force: bool = False, suffixes: tuple[str, ...] = ()):
        self.path, self.option, self.force, self.suffixes = Path(path), option, force, suffixes
        self.check()

    def check(self) -> None:
        path, option = self.path, self.option
        if str(path).strip() == "" or path.name in ("", ".", ".."):
            raise fail(option, "must name a file", path)
        if self.suffixes and path.suffix.lower() not in self.suffixes:
            raise fail(option, f"must end in one of {', '.join(self.suffixes)}", path)
        _writable_parent(path, option)
        if path.is_dir():
            raise fail(option, "must be a file, not a directory", path)
        if (path.exists() or path.is_symlink()) and not self.force:
            raise fail(option, "exists; pass --force to replace it, or choose a new file", path)


@contextlib.contextmanager
def staged_files(*targets: OutputFile) -> Iterator[list[Path]]:
    """Yield one hidden staging file per target; when the block succeeds each replaces its target
    (checked again first), and on any error every staged file is removed."""
    stages: list[Path] = []
    try:
        for t in targets:
            t.check()
            parent = t.path.absolute().parent
            try:
                fd, name = tempfile.mkstemp(prefix=STAGE_PREFIX, suffix=t.path.suffix, dir=parent)
            except OSError as exc:
                raise fail(t.option, f"cannot write in {parent} ({exc.strerror})", t.path) from None
            os.close(fd)
            stages.append(Path(name))
        yield stages
        for t in targets:
            t.check()
        for stage, t in zip(stages, targets):
            os.replace(stage, t.path)
    finally:
        for stage in stages:
            if stage.exists():
                remove_own(stage)

"""Moving a staged output into an existing output directory as one transaction, undone completely
on any error or Ctrl-C (:meth:`sinkcheck.core.files.OutputDir.staged`), and removing staging paths.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from sinkcheck.core.marker import STAGE_PREFIX, Manifest, fail, write_marker


def remove_own(path: Path) -> None:
    """Remove a staging directory or file that this process created (never a user's path): only a
    name made by ``tempfile`` with :data:`~sinkcheck.core.marker.STAGE_PREFIX` is ever removed, anything else is an error."""
    if not path.name.startswith(STAGE_PREFIX):
        raise RuntimeError(f"refusing to remove {path}: not a staging path of sinkcheck")
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


class Transaction:
    """Move a stage's files into an existing directory, replacing the marker's files in scope;
    undone completely when any step fails (or Ctrl-C arrives)."""

    def __init__(self, root: Path, stage: Path, manifest: Manifest | None, scope: tuple[str, ...] | None,
                 digests: dict[str, str], command: str, option: str):
        self.root, self.stage, self.scope, self.digests = root, stage, scope, digests
        self.old = dict(manifest.files) if manifest else {}
        self.command, self.option = command, option
        self.backup = stage / (STAGE_PREFIX + "old")
        self.moved_out: list[str] = []  # old files moved into the backup
        self.moved_in: list[str] = []  # new files moved into place
        self.made: list[Path] = []  # directories created

    def in_scope(self, name: str) -> bool:
        return self.scope is None or name.split("/")[0] in self.scope

    def collisions(self) -> list[str]:
        out = []
        for name in self.digests:
            parts = name.split("/")
            for k in range(1, len(parts)):  # a parent that is a file or a link
                p = self.root.joinpath(*parts[:k])
                if p.is_symlink() or (p.exists() and not p.is_dir()):
                    out.append("/".join(parts[:k]))
            f = self.root / name
            if (f.exists() or f.is_symlink()) and name not in self.old:
                out.append(name)
        return out

    def run(self) -> None:
        clash = self.collisions()
        if clash:
            raise fail(self.option, f"{clash[0]} exists and was not written by sinkcheck; move it away", self.root)
        stale = [n for n in self.old if self.in_scope(n) and n not in self.digests]
        replaced = [n for n in self.old if n in self.digests]
        try:
            for name in stale + replaced:
                self._move(self.root / name, self.backup / name, self.moved_out, name)
            for name in sorted(self.digests):
                self._move(self.stage / name, self.root / name, self.moved_in, name, make=True)
            from sinkcheck import __version__

            kept = {n: d for n, d in self.old.items() if not self.in_scope(n) and (self.root / n).exists()}
            write_marker(self.root, Manifest(self.command, __version__, {**kept, **self.digests}))
        except BaseException:
            self._undo()
            raise
        for name in stale:  # directories this command made that are now empty
            parent = (self.root / name).parent
            while parent != self.root:
                with contextlib.suppress(OSError):
                    parent.rmdir()
                parent = parent.parent

    def _move(self, src: Path, dst: Path, log: list[str], name: str, make: bool = False) -> None:
        if not src.exists() and not src.is_symlink():
            return
        parent = dst.parent
        missing = []
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for d in reversed(missing):
            d.mkdir()
            if make:
                self.made.append(d)
        os.replace(src, dst)
        log.append(name)

    def _undo(self) -> None:
        for name in reversed(self.moved_in):
            with contextlib.suppress(OSError):
                os.replace(self.root / name, self.stage / name)
        for d in reversed(self.made):
            with contextlib.suppress(OSError):
                d.rmdir()
        for name in reversed(self.moved_out):
            with contextlib.suppress(OSError):
                (self.root / name).parent.mkdir(parents=True, exist_ok=True)
                os.replace(self.backup / name, self.root / name)

"""The marker of a directory sinkcheck wrote (:data:`MARKER`): the command that wrote it and the
SHA-256 of every file it wrote, so a later run replaces only those (:mod:`sinkcheck.core.files`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sinkcheck.errors import InvalidInputError

MARKER = ".sinkcheck-output"
"""The name of the marker file of a directory sinkcheck wrote. It holds JSON with ``tool``,
``command``, ``version`` and ``files`` (relative POSIX path -> SHA-256 of the bytes written)."""

STAGE_PREFIX = ".sinkcheck-partial-"
"""The prefix of a staging directory or file; one left by a killed run is removed by the next."""

SWEEP_LOCK = ".sinkcheck-lock"
"""The lock file a sweep holds while it runs (one sweep into a directory at a time)."""

OWN_NAMES = (MARKER, SWEEP_LOCK)
"""The names sinkcheck keeps in an output directory beside its output (never listed as output)."""


def fail(option: str, rule: str, path: Path | str) -> InvalidInputError:
    return InvalidInputError(f"{option}: {rule} (got {str(path)!r})")


def sha256(path: Path) -> str:
    """The SHA-256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Manifest:
    """What a marker says: the command that wrote the directory and the files it owns there."""

    command: str
    version: str
    files: dict[str, str]

    def dumps(self) -> str:
        return json.dumps({"tool": "sinkcheck", "command": self.command, "version": self.version,
                           "files": dict(sorted(self.files.items()))}, indent=1) + "\n"


def _relative(name: object) -> str | None:
    """``name`` if it is a relative POSIX path inside the directory (no ``..``, not absolute)."""
    if not isinstance(name, str) or not name or "\\" in name or "\0" in name:
        return None
    p = PurePosixPath(name)
    if p.is_absolute() or any(part in ("..", ".", "") for part in name.split("/")) or p.name in OWN_NAMES:
        return None
    return name


def read_manifest(directory: Path, option: str = "--out") -> Manifest | None:
    """The marker of ``directory`` (None when it has none).

    Raises:
        InvalidInputError: the marker is unreadable, not sinkcheck's, or lists a path outside the
            directory (a marker is never trusted beyond the directory it sits in).
    """
    path = Path(directory) / MARKER
    if not path.exists() and not path.is_symlink():
        return None
    try:
        if path.is_symlink() or not path.is_file():
            raise ValueError("not a regular file")
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or data.get("tool") != "sinkcheck":
            raise ValueError("not written by sinkcheck")
        files = data.get("files")
        if not isinstance(files, dict) or not all(_relative(k) and isinstance(v, str) for k, v in files.items()):
            raise ValueError("bad file list")
        if not isinstance(data.get("command"), str) or not isinstance(data.get("version"), str):
            raise ValueError("no command")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise fail(option, f"its marker {MARKER} cannot be read ({exc}); choose a new directory", directory) from None
    return Manifest(data["command"], data["version"], dict(files))


def write_marker(directory: Path, manifest: Manifest) -> None:
    fd, name = tempfile.mkstemp(prefix=STAGE_PREFIX, dir=directory)
    with os.fdopen(fd, "w") as fh:
        fh.write(manifest.dumps())
    os.replace(name, directory / MARKER)


def files_under(root: Path) -> list[str]:
    """Relative POSIX paths of the regular files under ``root`` (sorted)."""
    out = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            out.append((Path(dirpath) / name).relative_to(root).as_posix())
    return sorted(out)

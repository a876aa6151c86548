"""One way to write output: stage it next to its destination and move it into place only when the
whole run has succeeded, so a failed or interrupted run leaves no partial output behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from sinkcheck.errors import InvalidInputError


def check_parent(target: Path, option: str = "--out") -> None:
    """Fail before any work when ``target`` cannot be written because its parent does not exist
    (:func:`staged` checks again when it starts)."""
    if not Path(target).resolve().parent.is_dir():
        raise InvalidInputError(f"{option}: parent directory does not exist (got {str(target)!r})")


@contextlib.contextmanager
def staged(*targets: Path, directory: bool = True, option: str = "--out") -> Iterator[list[Path]]:
    """Yield one hidden staging path per target (directories, or files when ``directory`` is False);
    on success each replaces its target, on any error every staged path is removed.

    Raises:
        InvalidInputError: a target's parent directory does not exist or cannot be written
            (``option`` names the command-line option in the message).
    """
    stages: list[Path] = []
    try:
        for target in map(Path, targets):
            parent = target.resolve().parent
            if not parent.is_dir():
                raise InvalidInputError(f"{option}: parent directory {parent} does not exist")
            try:
                if not directory:
                    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.partial-", suffix=target.suffix, dir=parent)
                    os.close(fd)
                    stages.append(Path(name))
                else:
                    stages.append(Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=parent)))
            except OSError as exc:
                raise InvalidInputError(f"{option}: cannot write in {parent} ({exc.strerror})") from None
        yield stages
    except BaseException:
        for stage in stages:
            shutil.rmtree(stage, ignore_errors=True) if stage.is_dir() else stage.unlink(missing_ok=True)
        raise
    for stage, target in zip(stages, map(Path, targets)):
        if stage.is_dir() and target.exists():
            shutil.rmtree(target)
        if stage.exists():
            stage.replace(target)

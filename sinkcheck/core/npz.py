""".npz files read without trusting their size: the shapes from the members' headers first, and an
array one leading index at a time, so that a small compressed file that would decompress to
gigabytes is refused (or streamed) instead of filling memory."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sinkcheck.errors import InvalidInputError


@dataclass(frozen=True)
class Header:
    """The header of one array: its shape, dtype and whether it is stored in Fortran order."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=object)) * self.dtype.itemsize


def _read_header(fh) -> Header:
    version = np.lib.format.read_magic(fh)
    read = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(version)
    if read is None:
        raise ValueError(f"unsupported .npy version {version}")
    shape, fortran_order, dtype = read(fh, max_header_size=10_000)
    if dtype.hasobject:
        raise ValueError("object arrays are not read (they would need pickle)")
    return Header(tuple(int(s) for s in shape), dtype, bool(fortran_order))


def headers(path: str | Path, name: str = "FILE") -> dict[str, Header]:
    """The header of every array in the .npz file ``path`` (nothing is decompressed beyond them).

    Raises:
        InvalidInputError: not a readable .npz file (``name`` is the option or argument to blame).
    """
    try:
        with zipfile.ZipFile(path) as z:
            out = {}
            for info in z.infolist():
                if info.filename.endswith(".npy"):
                    with z.open(info) as fh:
                        out[info.filename[:-4]] = _read_header(fh)
            return out
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise InvalidInputError(f"{name}: cannot read {Path(path).name} as .npz ({type(exc).__name__}: {exc})") from None


class Stream:
    """One array of an .npz file, read in order one leading index at a time (``stream[n]`` for
    n = 0, 1, ...): at most one slice is in memory. Fortran-ordered arrays are refused."""

    def __init__(self, path: str | Path, key: str, name: str = "FILE"):
        self.path, self.key, self.name = Path(path), key, name
        self.header = headers(path, name)[key]
        if self.header.fortran_order:
            raise InvalidInputError(f"{name}: {key} in {self.path.name} is stored in Fortran order; save it "
                                    "with numpy's default (C) order")
        self.shape, self.dtype, self.ndim = self.header.shape, self.header.dtype, len(self.header.shape)
        self._next, self._fh, self._zip = 0, None, None

    def __getitem__(self, n: int) -> np.ndarray:
        if not self.shape or not 0 <= n < self.shape[0]:
            raise IndexError(n)
        if self._fh is None or n < self._next:
            self._open()
        size = int(np.prod(self.shape[1:], dtype=object)) * self.dtype.itemsize
        try:
            while self._next < n:  # skip forward
                self._fh.read(size)
                self._next += 1
            data = self._fh.read(size)
        except (OSError, EOFError, zipfile.BadZipFile, ValueError) as exc:
            raise InvalidInputError(f"{self.name}: cannot read {self.path.name} ({type(exc).__name__}: {exc})") from None
        if len(data) != size:
            raise InvalidInputError(f"{self.name}: {self.path.name} is truncated ({self.key}[{n}] is incomplete)")
        self._next += 1
        return np.frombuffer(data, dtype=self.dtype).reshape(self.shape[1:])

    def _open(self) -> None:
        self.close()
        self._zip = zipfile.ZipFile(self.path)
        self._fh = self._zip.open(f"{self.key}.npy")
        _read_header(self._fh)
        self._next = 0

    def close(self) -> None:
        for f in (self._fh, self._zip):
            if f is not None:
                f.close()
        self._fh = self._zip = None

    def __del__(self) -> None:
        self.close()

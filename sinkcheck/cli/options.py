"""Options that several commands share, written once: where output goes and ``--force``
(docs/commands.md, "Output directories"; :mod:`sinkcheck.core.files`)."""

from __future__ import annotations

from pathlib import Path

import click

FORCE = click.option("--force", is_flag=True,
                     help="Overwrite sinkcheck's own earlier output even where it was changed since (or an "
                          "existing output file); files sinkcheck did not write are never touched.")


def out_option(default: str | None, command: str, required: bool = False):
    """``--out DIR``: a new or empty directory, or one an earlier ``sinkcheck COMMAND`` wrote."""
    return click.option("--out", type=click.Path(path_type=Path), default=None if default is None else Path(default),
                        show_default=default is not None, required=required,
                        help=f"Output directory: new, empty, or written by an earlier `sinkcheck {command}` "
                             "(only its own files are replaced, when the run completes).")

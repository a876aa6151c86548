"""The ``sinkcheck`` command line.

Subcommands live next to the code they run and are imported only when called (click's lazy
group pattern), so ``sinkcheck --help`` stays fast.  Every :class:`SinkcheckError`, usage error
and unwritable path becomes a one-line ``error: ...`` on stderr and exit code 2 (:meth:`LazyGroup.main`).
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from sinkcheck import __version__
from sinkcheck.errors import SinkcheckError

COMMANDS = {
    "report": "sinkcheck.cli.report:report",
    "claims": "sinkcheck.cli.claims:claims",
    "smoothing": "sinkcheck.cli.smoothing:smoothing",
    "trigger": "sinkcheck.cli.trigger:trigger",
    "train": "sinkcheck.cli.empirical:train",
    "gu-tables": "sinkcheck.cli.gu_tables:gu_tables",
    "pretrained": "sinkcheck.cli.empirical:pretrained",
    "metric": "sinkcheck.cli.metric:metric",
    "bounds": "sinkcheck.cli.sinkdiag:bounds",
    "table": "sinkcheck.cli.sinkdiag:table",
    "sweep": "sinkcheck.cli.sweep:sweep",
    "results": "sinkcheck.cli.sweep:results",
    "variants": "sinkcheck.cli.variants:variants",
}
"""name -> "module:attribute" of each subcommand."""

SUMMARIES = {
    "gu-tables": "Gu et al.'s Section 4 and Tables 3-5 trained on bigram-backcopy, beside the paper.",
    "bounds": "Section 7 on one instance: L, OPT, construction cost and U for both patterns.",
    "claims": "The claims ledger: every claim checked, its paper, verdict and hypothesis.",
    "metric": "Gu et al.'s sink metric on saved attention maps (.npy, .npz, .pt).",
    "pretrained": "Sinks, first-token alignment and smoothing in a model on disk (default MiniLM).",
    "report": "The main job: every check, with certificates, tables, figures, a summary.",
    "results": "The summary tables, figures and export of a sweep directory, from its database.",
    "smoothing": "Dense vs. sparse attention (Section 5) on sampled cases.",
    "sweep": "Run a sweep of tasks from a SPEC on Dask into a resumable results database.",
    "table": "The bound-comparison table of Section 7 over a grid.",
    "train": "Train the small transformer: dormant, lm, sinkdiag.",
    "trigger": "The trigger task: constructions, necessity probes, trained heads.",
    "variants": "Does my attention need a sink? Every attention operation: theory, probe, trained sinks.",
}
"""The one-line summaries that ``sinkcheck --help`` lists without importing any command (each
command's own help starts with more detail; tests/test_cli_and_report.py keeps the two in step)."""


class LazyGroup(click.Group):
    """A click group that imports its subcommands on first use and turns errors into messages."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands from :data:`SUMMARIES`, so that ``--help`` imports none of them."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, SUMMARIES[name]) for name in self.list_commands(ctx)])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attr)

    def main(self, args=None, prog_name=None, **extra):
        """Run the command; every way it can fail ends in one line on stderr, never a traceback:
        bad input (click's usage errors and SinkcheckError) and refused paths exit 2, Ctrl-C 130,
        an out-of-memory run 2, and an unexpected error 1 (``SINKCHECK_DEBUG=1`` re-raises it)."""
        try:
            return super().main(args, prog_name, standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.NoArgsIsHelpError as exc:  # a group called bare: its help
            click.echo(exc.ctx.get_help())
            sys.exit(0)
        except click.ClickException as exc:  # usage errors: a bad option value, a missing argument, ...
            _fail(" ".join(exc.format_message().split()), exc.exit_code)
        except (KeyboardInterrupt, click.exceptions.Abort):
            _fail("interrupted (finished sweep rows are kept; other output is written only by a complete run)", 130)
        except SinkcheckError as exc:
            _fail(str(exc), 2)
        except MemoryError:
            _fail("out of memory: choose smaller sizes (README, \"Limits\")", 2)
        except OSError as exc:
            where = f" {exc.filename}" if exc.filename else ""
            _fail(f"cannot write or read{where}: {exc.strerror or exc}", 2)
        except Exception as exc:  # noqa: BLE001 -- a bug: say so in one line
            if os.environ.get("SINKCHECK_DEBUG"):
                raise
            _fail(f"unexpected {type(exc).__name__}: {' '.join(str(exc).split())} (a bug in sinkcheck; "
                  "SINKCHECK_DEBUG=1 shows the traceback)", 1)


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sinkcheck")
def main() -> None:
    """sinkcheck: check the theorems on attention sinks, symbolically and numerically."""


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

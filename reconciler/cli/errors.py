"""The one place where errors become exit codes.

Every error a user can meet arrives as a `ReconcilerError` carrying its exit code
(`reconciler.core.errors`); `reported` shows it as `Error: ...` on stderr, without a traceback,
and ends the command with that code through click (`click.exceptions.Exit`, which click turns
into the process's exit status). Any other exception of a command is a bug: it is shown the
same way, as one line (`safety.internal_error`; `-v` prints the traceback). click's own
exceptions (usage errors, `--help`, Ctrl-C at a prompt) are left to click.

Every command of the product, and the group itself, is wrapped in `reported`; nothing else in
the command line prints an error or exits with an error code.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from reconciler.cli import safety
from reconciler.core.errors import ReconcilerError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CHANGES_PENDING = 2
"""`plan` and `diff-env` with --detailed-exitcode: there are differences (not an error)."""


def exit_with(error: ReconcilerError) -> NoReturn:
    """Show `error` as the user sees every error, and end the command with its exit code."""
    click.echo(f"Error: {error.render()}", err=True)
    raise click.exceptions.Exit(error.exit_code) from error


def reported(func: F) -> F:
    """`func` (a click callback) with its errors shown and turned into exit codes."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (click.exceptions.Abort, click.exceptions.Exit, click.ClickException):
            raise  # click's own: Ctrl-C at a prompt, usage errors, a chosen exit code
        except ReconcilerError as error:
            exit_with(error)
        except Exception as error:
            # A bug, never a user's error: one clear line, no traceback (-v shows it).
            exit_with(safety.internal_error(error))

    return wrapper  # type: ignore[return-value]

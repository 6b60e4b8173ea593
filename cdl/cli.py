"""The ``cdl`` command line: the addition demo, string diagrams, and shape checking.

    cdl demo addition          train a fold and a baseline; print the table; plot
    cdl draw MODEL OUTPUT      draw a model as a string diagram (SVG, PNG or PDF)
    cdl check FILES...         run mypy with cdl's plugin and stubs

Bad arguments print one line on stderr and exit with status 2.

>>> main(["draw", "no_such_file.py:model", "out.svg"])
2
"""

import importlib
import inspect
import runpy
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Final

import typer

from . import _cli_messages as _messages
from ._check import NO_FILES, mypy_arguments, mypy_config, stub_path

__all__ = ["main", "mypy_config", "stub_path"]

HELP: Final = (
    "cdl: categorical deep learning on JAX.\n\n"
    "Architectures are typed morphisms composed with >> and @; folds, lenses and "
    "equivariant layers are built from them. These commands run the addition demo, "
    "draw models as string diagrams and check shapes statically with mypy."
)

_app = typer.Typer(
    name="cdl",
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
_demo_app = typer.Typer(
    help="Run a demonstration of cdl.", no_args_is_help=True, add_completion=False
)
_app.add_typer(_demo_app, name="demo")


class _CliError(typer.BadParameter):
    """An error in the arguments of a command: printed as one line, status 2."""

    def format_message(self) -> str:
        """The message alone, without click's prefix."""
        return self.message


def _lengths(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise _CliError(_messages.bad_lengths(text)) from None
    if not values or min(values) < 1:
        raise _CliError(_messages.bad_lengths(text))
    return values


def _suffix_checked(path: Path | None, option: str) -> Path | None:
    """`path`, checked before any work: a picture's suffix, in a folder that exists."""
    if path is None:
        return path
    if path.suffix.lower() not in (".svg", ".png", ".pdf"):
        raise _CliError(_messages.bad_suffix(option, path))
    if path.is_dir():
        raise _CliError(_messages.is_folder(option, path))
    if not path.absolute().parent.is_dir():
        raise _CliError(_messages.no_folder(option, path))
    return path


@_demo_app.command("addition")
def _addition(
    steps: Annotated[
        int, typer.Option(min=1, help="Training steps of each model.")
    ] = 1500,
    lengths: Annotated[
        str, typer.Option(help="Numbers of digits to evaluate, comma-separated.")
    ] = "8,16,32,64,128",
    eval_size: Annotated[
        int, typer.Option(min=1, help="Held-out sums per length.")
    ] = 1000,
    seed: Annotated[
        int, typer.Option(min=0, help="Seed of the data and the weights.")
    ] = 0,
    plot: Annotated[
        Path | None,
        typer.Option(help="Where to save the accuracy plot (.png, .svg, .pdf)."),
    ] = Path("addition.png"),
    diagram: Annotated[
        Path | None,
        typer.Option(help="Where to save the string diagram of the fold model."),
    ] = Path("addition-model.svg"),
) -> None:
    """Learn long addition as a fold, and watch a transformer fail to generalise.

    A small cell with a learned state is folded over digit pairs with cdl.cata,
    from the least significant digit; a transformer of place-value embeddings sees
    the same sums of at most 8 digits. Both are scored on 8- to 128-digit sums.
    """
    from rich.console import Console

    from .demos import plot as save_plot, run_addition
    from .draw import draw

    wanted = _lengths(lengths)
    _suffix_checked(plot, "--plot")
    _suffix_checked(diagram, "--diagram")
    console = Console()
    console.print(
        f"[bold]Learning to add[/bold]: {steps} steps of batches of 128 sums of at "
        f"most 8 digits; scoring {eval_size} sums at each of {wanted} digits."
    )
    start = time.perf_counter()
    report = run_addition(
        steps=steps, lengths=wanted, eval_size=eval_size, seed=seed, console=console
    )
    console.print(report.table())
    total = time.perf_counter() - start
    console.print(
        f"training: fold {report.fold.seconds:.1f} s, transformer "
        f"{report.baseline.seconds:.1f} s; whole run {total:.1f} s"
    )
    if plot is not None:
        console.print(f"plot written to {save_plot(report, plot)}")
    if diagram is not None and report.fold.model is not None:
        model: Any = report.fold.model
        draw(model.network(8), diagram)
        console.print(f"diagram of the fold written to {diagram}")


def _load_model(spec: str) -> Any:
    """The morphism named by ``file.py:name`` or ``package.module:name``."""
    from ._para import Para

    source, _, name = spec.rpartition(":")
    if not source or not name:
        raise _CliError(_messages.bad_spec(spec))
    if source.endswith(".py"):
        if not Path(source).is_file():
            raise _CliError(_messages.no_file(source, spec))
        namespace = runpy.run_path(source)
    else:
        try:
            namespace = vars(importlib.import_module(source))
        except ImportError as error:
            raise _CliError(_messages.no_module(source, error)) from None
    if name not in namespace:
        raise _CliError(_messages.no_name(source, name))
    value = namespace[name]
    if callable(value) and not isinstance(value, Para):
        value = _called(spec, value)
    if not isinstance(value, Para):
        raise _CliError(_messages.not_para(spec, value))
    return value


def _called(spec: str, function: Any) -> Any:
    """What a function of no arguments named by MODEL returns."""
    try:
        signature = inspect.signature(function)
    except ValueError:  # no signature to read: the call says what is wrong
        return function()
    try:
        signature.bind()
    except TypeError:
        bare = signature.replace(
            parameters=[
                p.replace(annotation=inspect.Parameter.empty)
                for p in signature.parameters.values()
            ],
            return_annotation=inspect.Signature.empty,
        )
        raise _CliError(_messages.needs_arguments(spec, str(bare))) from None
    return function()


@_app.command("draw")
def _draw(
    model: Annotated[
        str,
        typer.Argument(
            metavar="MODEL",
            help="FILE.py:NAME or MODULE:NAME: a cdl.Para, or a function of no "
            "arguments returning one.",
        ),
    ],
    output: Annotated[
        Path,
        typer.Argument(
            metavar="OUTPUT", help="The picture to write: .svg, .png or .pdf."
        ),
    ],
) -> None:
    """Draw a model as a string diagram: boxes are layers, wires their spaces."""
    from rich.console import Console

    from .draw import draw
    from .draw._messages import box_count

    _suffix_checked(output, "OUTPUT")
    diagram = draw(_load_model(model), output)
    width, height = diagram.size
    Console(soft_wrap=True).print(
        f"{output}: {box_count(len(diagram.boxes()))}, {width:g}×{height:g} pixels"
    )


@_app.command("check")
def _check(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            exists=True,
            metavar="FILES",
            help="Python files or directories to check.",
            show_default=False,
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option(help="Also apply mypy's --strict checks.")
    ] = False,
    show_config: Annotated[
        bool,
        typer.Option(help="Print the mypy configuration used, then check FILES."),
    ] = False,
) -> None:
    """Check FILES with mypy, cdl's plugin and its jax stubs: shape bugs as errors.

    For code whose mypy is not configured for cdl. To configure mypy yourself,
    see the configuration printed by --show-config.
    """
    if show_config:
        sys.stdout.write(mypy_config(strict))
        if not files:
            return
    if not files:
        raise _CliError(NO_FILES)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            *mypy_arguments([str(f) for f in files], strict),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    raise typer.Exit(done.returncode)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``cdl`` command line; return its exit status.

    **Arguments:** `argv`, the arguments (default: ``sys.argv[1:]``).

    **Returns:** 0 on success, 1 when ``cdl check`` finds errors, 2 for bad
    arguments (reported in one line on stderr).

    >>> main(["demo", "addition", "--steps", "0"])
    2
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = _app(args=args, prog_name="cdl", standalone_mode=False)
    except typer.Abort:
        print(_messages.aborted(), file=sys.stderr)
        return 1
    except typer.TyperException as error:
        described = getattr(error, "format_message", None)
        text = " ".join((described() if described else str(error)).split())
        if text:
            print(_messages.error_line(text), file=sys.stderr)
        return int(getattr(error, "exit_code", 2))
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())

"""How ``territory-engine run`` shows a run's progress on the console.

:func:`territory_engine.pipeline.run.run_scenario` reports ``(step, info)`` events:
the run's four phases ``load``, ``solve``, ``plan``, ``write`` (``info["folder"]``),
and between ``solve`` and ``plan`` the solver's own (:func:`territory_engine.solve.align`):
``seed`` (an LP round), ``contiguity`` (seed repaired, ``info["violations"]`` bands
to restore), ``search`` (one local search pass: ``pass``, ``moves``, ``violation``),
``repair`` (exact region repair), ``restart``, ``regional`` and ``lns``.

:class:`RunProgress` shows them in one of three modes:

* ``live`` (the default): on an interactive terminal, one line that changes in place
  (the phase, the local search pass, the band violation left and the time left of the
  solver's time limit) and settles into one summary line when the run ends. On
  anything else (a pipe, a file, CI) it prints one line per phase and nothing else;
* ``verbose``: the full log, one line per event (every local search pass);
* ``quiet``: nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Literal

from rich.console import Console, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.spinner import Spinner
from rich.text import Text

Mode = Literal["live", "verbose", "quiet"]

MODES: tuple[Mode, ...] = ("live", "verbose", "quiet")

PHASES = ("load", "solve", "plan", "write")
"""The run's phases, in order (each reported once)."""

SOLVER_STEPS = {
    "seed": "seed LP",
    "contiguity": "contiguity repair",
    "search": "local search",
    "repair": "exact repair",
    "restart": "restart",
    "regional": "regional re-draw",
    "lns": "LNS",
}
"""What the live line calls each solver event."""


def phase_line(step: str, info: dict[str, Any]) -> str:
    """The line (rich markup) that announces a phase: ``1/4 loading data`` ..."""
    if step == "load":
        return "[bold]1/4[/] loading data"
    if step == "solve":
        return "[bold]2/4[/] solving"
    if step == "plan":
        return "[bold]3/4[/] quotas, scorecard, map"
    return f"[bold]4/4[/] writing {escape(str(info['folder']))}"


def log_line(step: str, info: dict[str, Any]) -> str | None:
    """The verbose log's line (rich markup) for one event; ``None`` for an unlogged one."""
    if step in PHASES:
        return phase_line(step, info)
    if step == "seed":
        return (
            f"      seed LP round {info['round']}/{info['rounds']}: "
            f"{info['lp_variables']:,} variables, {info['lp_fractional_vars']} fractional"
        )
    if step == "contiguity":
        return f"      contiguity repaired; {info['violations']} bands to restore"
    if step == "search":
        return (
            f"      local search pass {info['pass']}: {info['moves']} moves, "
            f"violation {info['violation']:.4f}"
        )
    return None


class RunProgress:
    """The ``progress(step, info)`` callback of a run, shown on ``console``.

    Use it as a context manager around the run, so the live line is cleared (and
    the summary line printed) however the run ends::

        with RunProgress(console, time_limit=60) as progress:
            run_scenario(scenario, output=folder, progress=progress)

    Parameters
    ----------
    console
        Where to show it (the command uses stderr). Whether the live line is drawn
        depends on the console: an interactive terminal gets it, anything else
        (``console.is_terminal`` false, or a dumb terminal) one line per phase.
    mode
        ``live``, ``verbose`` or ``quiet`` (see the module docstring).
    time_limit
        The solver's time limit in seconds, to show the time left while solving
        (counted from the ``solve`` event, so it runs out a little before the solver's
        own clock, which starts once the problem is built); ``None``: not shown.
    clock
        Seconds, monotonic (tests pass a fake one).
    """

    def __init__(
        self,
        console: Console,
        *,
        mode: Mode = "live",
        time_limit: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode {mode!r} is not one of {', '.join(MODES)}")
        self.console = console
        self.mode = mode
        self.time_limit = time_limit
        self._clock = clock
        self.interactive = console.is_terminal and not console.is_dumb_terminal
        self._live: Live | None = None
        self._spinner = Spinner("dots")
        self._started: float | None = None
        self._phase_started: dict[str, float] = {}
        self.phase: str | None = None
        self.phase_info: dict[str, Any] = {}
        self.solver_step: str | None = None
        self.search_pass: int | None = None
        self.passes = 0
        self.violation: float | None = None
        self.bands_to_restore: int | None = None
        self.solve_seconds: float | None = None

    # -- the callback -------------------------------------------------------------

    def __call__(self, step: str, info: dict[str, Any]) -> None:
        if self.mode == "quiet":
            return
        if self.mode == "verbose":
            line = log_line(step, info)
            if line is not None:
                self.console.print(line)
            return
        self._record(step, info)
        if not self.interactive:
            if step in PHASES:
                self.console.print(phase_line(step, info))
            return
        if self._live is None:
            # Redrawn 8 times a second (the clock counts down between events); a new
            # phase shows at once. What the run prints on stderr goes above the line;
            # stdout is left alone (it is the command's output).
            self._live = Live(
                console=self.console,
                get_renderable=self._render,
                transient=True,
                refresh_per_second=8,
                redirect_stdout=False,
            )
            self._live.start(refresh=True)
        elif step in PHASES:
            self._live.refresh()

    def _record(self, step: str, info: dict[str, Any]) -> None:
        """Keep what the live line and the summary line show."""
        now = self._clock()
        if self._started is None:
            self._started = now
        if step in PHASES:
            if self.phase == "solve":
                self.solve_seconds = now - self._phase_started["solve"]
            self.phase, self.phase_info, self.solver_step = step, dict(info), None
            self._phase_started[step] = now
            return
        if step not in SOLVER_STEPS:
            return
        self.solver_step = step
        if step == "search":
            self.passes += 1
            self.search_pass = info.get("pass")
        if step == "contiguity":
            self.bands_to_restore = info.get("violations")
        if info.get("violation") is not None:
            self.violation = float(info["violation"])

    # -- what is shown ------------------------------------------------------------

    def time_left(self) -> float | None:
        """Seconds left of the solver's time limit while solving, else ``None``."""
        if self.phase != "solve" or self.time_limit is None:
            return None
        spent = self._clock() - self._phase_started["solve"]
        return max(0.0, self.time_limit - spent)

    def status(self) -> str:
        """The live line (rich markup): phase, pass, violation left, time left."""
        if self.phase is None:
            return "starting"
        parts = [phase_line(self.phase, self.phase_info)]
        if self.phase == "solve" and self.solver_step is not None:
            step = SOLVER_STEPS[self.solver_step]
            if self.solver_step == "search" and self.search_pass is not None:
                step += f" pass {self.search_pass}"
            parts.append(step)
            if self.violation is not None:
                parts.append(f"band violation {self.violation:.4f}")
            elif self.bands_to_restore is not None:
                parts.append(f"{self.bands_to_restore} bands to restore")
        left = self.time_left()
        if left is not None:
            parts.append(f"{left:.0f} s left")
        return " · ".join(parts)

    def summary(self) -> str:
        """The one line the live display settles into (rich markup)."""
        assert self._started is not None
        line = f"[green]✓[/] done in {self._clock() - self._started:.1f} s"
        solved = []
        if self.solve_seconds is not None:
            solved.append(f"solve {self.solve_seconds:.1f} s")
        if self.passes:
            solved.append(f"{self.passes} local search {'pass' if self.passes == 1 else 'passes'}")
        if self.violation is not None:
            solved.append(f"band violation {self.violation:.4f}")
        return f"{line} ({', '.join(solved)})" if solved else line

    def _render(self) -> RenderableType:
        self._spinner.update(text=Text.from_markup(self.status()))
        return self._spinner

    # -- lifetime -----------------------------------------------------------------

    def close(self, *, completed: bool = True) -> None:
        """Clear the live line; when the run ``completed``, print the summary line."""
        if self._live is None:
            return
        self._live.stop()
        self._live = None
        if completed:
            self.console.print(self.summary(), highlight=False, soft_wrap=True)

    def __enter__(self) -> RunProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(completed=exc_type is None)

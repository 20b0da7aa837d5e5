"""The run's progress display (``territory_engine.cli.progress``), fed scripted events."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from territory_engine.cli.progress import RunProgress, log_line

SEARCH_PASSES = 40


def _events() -> list[tuple[str, dict]]:
    """A run as ``run_scenario`` reports it: phases, the seed, many passes, a repair."""
    events: list[tuple[str, dict]] = [
        ("load", {}),
        ("solve", {}),
        ("seed", {"round": 1, "rounds": 1, "lp_variables": 1530, "lp_fractional_vars": 93}),
        ("contiguity", {"violations": 47}),
    ]
    for p in range(1, SEARCH_PASSES + 1):
        events.append(("search", {"pass": p, "moves": 200 - p, "violation": 1.0 / p}))
    events += [
        ("repair", {"feasible": True, "violation": 0.0}),
        ("search", {"pass": 1, "moves": 21, "violation": 0.0}),
        ("plan", {}),
        ("write", {"folder": "out/plan"}),
    ]
    return events


class _Clock:
    """Advances half a second per reading."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 0.5
        return self.now


def _console(*, terminal: bool = False) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=terminal, width=120, color_system=None)
    return console, buffer


def _feed(progress: RunProgress) -> None:
    with progress:
        for step, info in _events():
            progress(step, info)


def _lines(buffer: io.StringIO) -> list[str]:
    return [line for line in buffer.getvalue().splitlines() if line.strip()]


def test_verbose_logs_every_event_as_before() -> None:
    console, buffer = _console()
    _feed(RunProgress(console, mode="verbose", time_limit=60))
    lines = _lines(buffer)
    passes = [line for line in lines if "local search pass" in line]
    assert len(passes) == SEARCH_PASSES + 1
    for p in range(1, SEARCH_PASSES + 1):
        assert f"local search pass {p}: {200 - p} moves, violation {1.0 / p:.4f}" in passes[p - 1]
    assert lines[0] == "1/4 loading data"
    assert lines[1] == "2/4 solving"
    assert lines[2] == "      seed LP round 1/1: 1,530 variables, 93 fractional"
    assert lines[3] == "      contiguity repaired; 47 bands to restore"
    assert lines[-2:] == ["3/4 quotas, scorecard, map", "4/4 writing out/plan"]
    # one line per logged event: the repair is not one of them (as before)
    assert len(lines) == len(_events()) - 1


def test_default_on_a_pipe_prints_phase_changes_only() -> None:
    console, buffer = _console()
    assert not console.is_terminal
    _feed(RunProgress(console, time_limit=60))
    lines = _lines(buffer)
    assert len(lines) <= 5, lines
    assert lines == [
        "1/4 loading data",
        "2/4 solving",
        "3/4 quotas, scorecard, map",
        "4/4 writing out/plan",
    ]
    assert "local search pass" not in buffer.getvalue()


def test_quiet_prints_nothing() -> None:
    for terminal in (False, True):
        console, buffer = _console(terminal=terminal)
        _feed(RunProgress(console, mode="quiet", time_limit=60))
        assert buffer.getvalue() == ""


def test_terminal_shows_one_live_line_and_settles_into_one() -> None:
    console, buffer = _console(terminal=True)
    clock = _Clock()
    progress = RunProgress(console, time_limit=60, clock=clock)
    seen: list[str] = []
    with progress:
        for step, info in _events():
            progress(step, info)
            seen.append(progress.status())
    by_step = dict(zip([s for s, _ in _events()], seen, strict=False))
    assert seen[0] == "[bold]1/4[/] loading data"
    assert "contiguity repair · 47 bands to restore" in by_step["contiguity"]
    pass_7 = seen[4 + 6]
    assert "[bold]2/4[/] solving · local search pass 7 · band violation 0.1429 · " in pass_7
    assert pass_7.endswith(" s left")
    assert "exact repair · band violation 0.0000" in by_step["repair"]
    assert seen[-1] == "[bold]4/4[/] writing out/plan"
    # one line redrawn in place (no scrolling log), then cleared for the summary line
    text = buffer.getvalue()
    assert "2/4 solving" in text and "4/4 writing out/plan" in text  # drawn at each phase
    assert text.count("\n") <= 2, text
    settled = text.rsplit("\x1b[2K", 1)[-1]
    assert settled.startswith("✓ done in") and settled.count("\n") == 1
    summary = progress.summary()
    assert summary.startswith("[green]✓[/] done in ")
    assert f", {SEARCH_PASSES + 1} local search passes, band violation 0.0000)" in summary


def test_time_left_counts_down_from_the_solve_event() -> None:
    console, _ = _console()
    clock = _Clock()
    progress = RunProgress(console, time_limit=10, clock=clock)
    progress("load", {})
    assert progress.time_left() is None
    progress("solve", {})  # clock reads 101.5 there
    assert progress.time_left() == pytest.approx(9.5)
    clock.now += 100
    assert progress.time_left() == 0.0
    progress("plan", {})
    assert progress.time_left() is None


def test_a_failed_run_leaves_no_summary_line() -> None:
    console, buffer = _console(terminal=True)
    progress = RunProgress(console, time_limit=60)
    with pytest.raises(RuntimeError), progress:
        progress("load", {})
        progress("solve", {})
        raise RuntimeError("boom")
    assert "done in" not in buffer.getvalue()


def test_unknown_events_are_ignored() -> None:
    assert log_line("lns", {"improved_regions": 2, "rounds": 4}) is None
    for mode in ("live", "verbose"):
        console, buffer = _console()
        progress = RunProgress(console, mode=mode)
        progress("something_new", {"x": 1})
        assert buffer.getvalue() == ""
    with pytest.raises(ValueError, match="mode"):
        RunProgress(_console()[0], mode="loud")  # type: ignore[arg-type]

"""Edit previews re-scored in processes of their own, beside the server's.

A preview is the studio's heaviest request: about 0.15 s of pure Python on the
sample (pandas, shapely and the scorer). Run in the server process it holds the
interpreter lock for that long, in 5 ms slices shared with every rep page the same
process serves, so under load an edit waits behind the pages and a page behind the
edit. :class:`Previews` moves the re-score to a small pool of processes
(:class:`concurrent.futures.ProcessPoolExecutor`, started with ``spawn`` so that no
server state is forked): each keeps its own edit sessions
(:data:`territory_engine.studio.editing.SESSIONS`, opened from the folder's path on
its first edit), the server process only waits on the answer, and the operating
system, not the interpreter lock, shares the cores.

The re-score is the same function either way (:func:`~.editing.rescore`), so the
numbers are the same; ``processes=0`` keeps it in the calling thread (the tests'
app, and a one-off script). A pool that lost a process (killed, out of memory) is
replaced and the preview asked once more.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path

from territory_engine.plan.reader import PlanFolder
from territory_engine.studio.editing import SESSIONS, EditResult, Move, rescore

__all__ = ["Previews"]


def _rescore_here(folder: str, moves: tuple[Move, ...], workdir: str) -> EditResult:
    """A preview process's re-score: the folder's session, opened here on first use.

    The answer leaves out ``source`` (the plan folder's tables): the server has them.
    """
    result = SESSIONS.get_folder(Path(folder)).rescore(moves, Path(workdir))
    return replace(result, source=None)


def _warm_up() -> None:
    """Import what a re-score needs, so that the first preview does not pay for it."""
    import territory_engine.plan.score  # noqa: F401


class Previews:
    """Where the studio re-scores edit previews: in this thread or in a process pool.

    Parameters
    ----------
    processes
        Preview processes (0: re-score in the calling thread).
    """

    def __init__(self, processes: int = 0) -> None:
        if processes < 0:
            raise ValueError("processes: 0 or more")
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        if processes:
            self._start()

    def _start(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.processes, mp_context=multiprocessing.get_context("spawn")
                )
                for _ in range(self.processes):  # start them now, not on the first edit
                    self._pool.submit(_warm_up)
            return self._pool

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)

    def rescore(self, plan: PlanFolder, moves: Sequence[Move], workdir: Path) -> EditResult:
        """Re-score ``plan`` with ``moves``, as :func:`~.editing.rescore` does.

        Raises
        ------
        InputError, ScenarioError
            As :func:`~.editing.rescore` (raised again here from the preview process).
        """
        if not self.processes:
            return rescore(plan, moves, workdir)
        for attempt in range(2):
            pool = self._start()
            try:
                future: Future[EditResult] = pool.submit(
                    _rescore_here, str(plan.path), tuple(moves), str(workdir)
                )
                return replace(future.result(), source=plan)
            except BrokenProcessPool:
                self._replace(pool)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Stop the preview processes (a later preview starts new ones)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

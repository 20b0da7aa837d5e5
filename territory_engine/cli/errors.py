"""Turn errors into one clean line and an exit code (no traceback for the user)."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import TypeVar

from territory_engine.errors import InfeasibleError, TerritoryEngineError

F = TypeVar("F", bound=Callable[..., object])

EXIT_INPUT = 2
EXIT_INFEASIBLE = 3
EXIT_INTERNAL = 4


def user_errors(func: F) -> F:
    """Run a CLI command; print user errors as ``error: ...`` and exit non-zero.

    Exit codes: 2 bad input or scenario, 3 infeasible, 4 internal error (set
    ``TERRITORY_ENGINE_DEBUG=1`` for the traceback).
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except InfeasibleError as exc:
            print(f"error: infeasible: {exc}", file=sys.stderr)
            raise SystemExit(EXIT_INFEASIBLE) from None
        except TerritoryEngineError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(EXIT_INPUT) from None
        except KeyboardInterrupt:
            print("interrupted: nothing was written", file=sys.stderr)
            raise SystemExit(130) from None
        except Exception as exc:
            if os.environ.get("TERRITORY_ENGINE_DEBUG"):
                raise
            print(
                f"internal error: {type(exc).__name__}: {exc} "
                "(set TERRITORY_ENGINE_DEBUG=1 for details and report it)",
                file=sys.stderr,
            )
            raise SystemExit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]

"""Display helpers shared by quota explanations, the CLI and the rendered pages.

Light on purpose: importing it pulls in no pandas, numpy or rendering library.
"""

from territory_engine.display.numbers import (
    MINUS,
    MISSING,
    as_number,
    km,
    money,
    number,
    percent,
    travel,
)

__all__ = ["MINUS", "MISSING", "as_number", "km", "money", "number", "percent", "travel"]

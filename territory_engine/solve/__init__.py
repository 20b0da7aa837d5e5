"""Alignment solver: LP seed, contiguity repair, local search."""

from territory_engine.solve.align import Alignment, align, check_alignment

__all__ = ["Alignment", "align", "check_alignment"]

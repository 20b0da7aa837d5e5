"""Caps on the share of potential and of accounts whose owner changes."""

from __future__ import annotations

from territory_engine.constraints.view import PlanView


def check(view: PlanView) -> list[str]:
    """A line per cap exceeded. An account with no previous owner never counts as moved."""
    cons = view.scenario.constraints
    acc = view.accounts
    prev = acc["current_rep_id"].astype(str)
    moved = (prev != "") & (prev != acc["rep_id"])
    out = []
    if cons.max_moved_potential is not None:
        share = acc.loc[moved, "potential"].sum() / max(acc["potential"].sum(), 1e-12)
        if share > cons.max_moved_potential + 1e-9:
            out.append(
                f"{100 * share:.2f} % of potential changes owner, above the cap "
                f"{100 * cons.max_moved_potential:.2f} %"
            )
    if cons.max_moved_accounts is not None:
        share = moved.sum() / max(len(acc), 1)
        if share > cons.max_moved_accounts + 1e-9:
            out.append(
                f"{100 * share:.2f} % of accounts change owner, above the cap "
                f"{100 * cons.max_moved_accounts:.2f} %"
            )
    return out

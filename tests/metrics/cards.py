"""A hand-made plan and its scorecard, shared by the metrics tests."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import scipy.sparse as sp

from territory_engine.metrics import AttainmentModel, Scorecard, ScoringInputs, scorecard


def small_inputs(**changes: object) -> ScoringInputs:
    """Four accounts in two territories (reps R1, R2), every optional input given."""
    values = np.array([[10.0, 1.0], [30.0, 1.0], [20.0, 1.0], [5.0, 1.0]])
    fair = np.array([[32.5, 2.0], [32.5, 2.0]])
    inputs = ScoringInputs(
        territory_ids=["T-R1", "T-R2"],
        rep_ids=["R1", "R2"],
        centres=np.array([[-84.0, 33.0], [-85.0, 34.0]]),
        fair_share=fair,
        lower=np.vstack([fair[:, 0] * 0.9, [-np.inf, -np.inf]]).T,
        upper=np.vstack([fair[:, 0] * 1.1, [np.inf, np.inf]]).T,
        measure_names=["potential", "accounts"],
        account_territory=np.array([0, 0, 1, 1]),
        account_values=values,
        account_xy=np.array([[-84.1, 33.0], [-84.0, 33.2], [-85.0, 34.1], [-85.2, 34.0]]),
        account_potential=values[:, 0],
        account_previous=np.array(["R1", "R2", "R2", ""]),
        unit_adjacency=sp.csr_matrix(([True, True], ([0, 1], [1, 0])), shape=(3, 3), dtype=bool),
        unit_territory=np.array([0, 1, 1]),
        account_ids=np.array(["A1", "A2", "A3", "A4"]),
        tie_rep=np.array(["R1", "R2"]),
        tie_account=np.array(["A1", "A2"]),
        account_proximity=np.array([1.0, 0.0, 0.5, 0.0]),
        account_kept=np.array([False, False, True, False]),
        account_family=np.array(["A1", "A1", "A3", "A4"]),
    )
    return dataclasses.replace(inputs, **changes)


QUOTAS = pd.DataFrame({"territory_id": ["T-R1", "T-R2"], "quota": [44.0, 26.0]})


def full_card() -> Scorecard:
    card = scorecard(
        small_inputs(),
        QUOTAS,
        attainment=AttainmentModel(np.array([40.0, 25.0]), draws=50),
        allocation={"method": "potential", "target": 70.0},
    )
    return dataclasses.replace(
        card,
        compactness={
            "polsby_popper_mean": 0.5,
            "polsby_popper_min": 0.4,
            "polsby_popper_median": 0.5,
            "polsby_popper": {"T-R1": 0.4, "T-R2": 0.6},
        },
        scored={"plan_folder": "/plans/x", "scenario_name": "x", "scenario_hash": "abc"},
    )

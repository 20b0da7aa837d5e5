"""The plan store: every run recorded in an embedded SQLite database (see :mod:`.plan_store`)."""

from territory_engine.store.plan_store import (
    PlanStore,
    StoredPlan,
    StoreError,
    default_store_path,
)

__all__ = ["PlanStore", "StoreError", "StoredPlan", "default_store_path"]

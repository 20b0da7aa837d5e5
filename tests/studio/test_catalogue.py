"""The catalogue reads a plan folder once however many requests open it at once."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import territory_engine.studio.catalogue as catalogue_module
from territory_engine.store import PlanStore
from territory_engine.studio.catalogue import Catalogue


def test_many_requests_opening_one_cold_plan_read_its_folder_once(studio_plan, monkeypatch):
    store = studio_plan.parent / "plans.sqlite"
    plan = SimpleNamespace(plan_id=PlanStore(store).ids()[0])
    reads = []
    real = catalogue_module.read_plan_folder

    def counted(folder):
        reads.append(folder)
        return real(folder)

    monkeypatch.setattr(catalogue_module, "read_plan_folder", counted)
    catalogue = Catalogue(store)
    start = threading.Barrier(8)
    loaded = []

    def open_plan() -> None:
        start.wait()
        loaded.append(catalogue.load(plan))

    threads = [threading.Thread(target=open_plan) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loaded) == 8 and len(reads) == 1
    assert all(item is loaded[0] for item in loaded)  # one shared, read-only copy

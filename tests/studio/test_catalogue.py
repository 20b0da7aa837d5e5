"""The catalogue reads a plan folder once however many requests open it at once."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

import territory_engine.studio.catalogue as catalogue_module
from territory_engine.store import PlanStore, StoreError
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


def _fresh_store(studio_plan, base):
    """A copy of the plan recorded in a store of its own; (store, plan id, folder)."""
    import shutil

    folder = base / "plan"
    shutil.copytree(studio_plan, folder)
    store = base / "plans.sqlite"
    plan_id = PlanStore(store).record_folder(folder)
    return store, plan_id, folder


def test_a_warm_load_does_not_open_the_store_and_a_changed_store_is_asked_again(
    studio_plan, tmp_path, monkeypatch
):
    store, plan_id, folder = _fresh_store(studio_plan, tmp_path)
    catalogue = Catalogue(store)
    opened = []
    real = Catalogue._store

    def counted(self):
        opened.append(1)
        return real(self)

    monkeypatch.setattr(Catalogue, "_store", counted)
    plan = SimpleNamespace(plan_id=plan_id)
    first = catalogue.load(plan)
    assert len(opened) == 1
    for _ in range(3):
        assert catalogue.load(plan) is first
    assert len(opened) == 1  # checked once; the folder and the store did not change
    other = tmp_path / "other"
    import shutil

    shutil.copytree(folder, other)
    PlanStore(store).record_folder(other)  # the store changes: the next load asks it
    assert catalogue.load(plan) is first and len(opened) == 2
    PlanStore(store).delete(plan_id)
    with pytest.raises(StoreError):
        catalogue.load(plan)


def test_a_folder_re_run_with_another_plan_is_refused_after_a_warm_load(studio_plan, tmp_path):
    store, plan_id, folder = _fresh_store(studio_plan, tmp_path)
    catalogue = Catalogue(store)
    plan = SimpleNamespace(plan_id=plan_id)
    catalogue.load(plan)
    assignments = folder / "assignments.csv"
    lines = assignments.read_text(encoding="utf-8").splitlines(keepends=True)
    assignments.write_text("".join([lines[0], *reversed(lines[1:])]), encoding="utf-8")
    with pytest.raises(StoreError, match="holds another plan"):
        catalogue.folder_of(plan)
    with pytest.raises(StoreError, match="holds another plan"):
        catalogue.load(plan)

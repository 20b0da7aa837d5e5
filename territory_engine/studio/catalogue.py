"""The plans the studio serves: the plan store's plans as workflow versions, and their folders.

The studio never reads a plan any other way than the engine does: the plan store
(:class:`territory_engine.store.PlanStore`) lists the plans and gives their folders,
and :func:`territory_engine.plan.reader.read_plan_folder` reads a folder. A plan of
the store becomes a :class:`~territory_engine.studio.models.PlanVersion` (state
``draft``) the first time :meth:`Catalogue.sync` sees it. Folders are cached in
memory by their path and the modification time of ``assignments.csv``, so a page
does not re-read a plan that did not change; and the store's answer of where a plan's
folder is (checked: the folder still holds that plan) is kept while neither the store's
files nor the folder's ``assignments.csv`` changed, so a rep's page does not open the
store and hash ``assignments.csv`` on every request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from territory_engine.errors import InputError
from territory_engine.plan.reader import PlanFolder, read_plan_csv, read_plan_folder
from territory_engine.store import PlanStore, StoreError
from territory_engine.studio.models import PlanVersion, utcnow

__all__ = ["HIERARCHY_FILE", "Catalogue", "LoadedPlan", "plan_year"]

#: The drawn hierarchy a plan folder may hold (``territory_id, rep_id, district,
#: region, manager``); managers' region, district and manager scopes read it first.
HIERARCHY_FILE = "hierarchy.csv"
#: How many plan folders stay in memory.
CACHE_SIZE = 8
#: How many plans' checked folder locations are kept.
FOLDER_CACHE_SIZE = 256

#: A file's identity and version: (inode, size, modification time) or ``None`` when absent.
_Signature = tuple[int, int, int] | None


def _signature(path: Path) -> _Signature:
    try:
        found = path.stat()
    except OSError:
        return None
    return (found.st_ino, found.st_size, found.st_mtime_ns)


def plan_year(manifest: dict, created_at: str | None) -> int:
    """The plan year: the year of the scenario's ``quota.plan_start``, else of recording."""
    start = ((manifest.get("scenario") or {}).get("quota") or {}).get("plan_start")
    if start:
        try:
            return date.fromisoformat(str(start)[:10]).year
        except ValueError:
            pass
    if created_at:
        return int(str(created_at)[:4])
    return utcnow().year


class LoadedPlan:
    """A plan folder and the per-territory organisation the scopes match against.

    Attributes
    ----------
    folder
        The plan as :func:`read_plan_folder` reads it.
    org
        One row per territory: ``territory_id, rep_id, segment, region, district,
        manager`` (text, empty when unknown), from ``territories.csv``, then
        ``quotas.csv``'s quota pools, then ``hierarchy.csv`` when the folder has one.
    """

    def __init__(self, folder: PlanFolder) -> None:
        self.folder = folder
        org = folder.territories[["territory_id", "rep_id"]].astype(str).copy()
        org["segment"] = (
            folder.territories["segment"].fillna("").astype(str)
            if "segment" in folder.territories
            else ""
        )
        for column in ("region", "district", "manager"):
            org[column] = ""
        quotas = folder.quotas
        for column in ("region", "district"):
            if column in quotas:
                values = dict(
                    zip(
                        quotas["territory_id"].astype(str),
                        quotas[column].fillna("").astype(str),
                        strict=False,
                    )
                )
                org[column] = org["territory_id"].map(values).fillna("")
        hierarchy_file = folder.path / HIERARCHY_FILE
        if hierarchy_file.is_file():
            hierarchy = read_plan_csv(hierarchy_file)
            if "territory_id" not in hierarchy:
                raise InputError("no territory_id column", file=str(hierarchy_file))
            for column in ("region", "district", "manager"):
                if column in hierarchy:
                    values = dict(
                        zip(
                            hierarchy["territory_id"].astype(str),
                            hierarchy[column].fillna("").astype(str),
                            strict=False,
                        )
                    )
                    org[column] = org["territory_id"].map(values).fillna(org[column])
        self.org: pd.DataFrame = org


class Catalogue:
    """The plan store behind the studio, and a small cache of its plan folders.

    Parameters
    ----------
    store
        The plan store file (``--store``).
    """

    def __init__(self, store: Path) -> None:
        self.store_path = Path(store)
        self._cache: OrderedDict[tuple[str, float, float], LoadedPlan] = OrderedDict()
        self._lock = threading.Lock()
        # One lock per folder being loaded: when 50 reps open their pages at once
        # only the first request reads the folder; the others wait for its result
        # instead of reading it 50 times in parallel (which held every database
        # connection past the pool's timeout, benchmarks/studio_load.py).
        self._loading: dict[tuple[str, float, float], threading.Lock] = {}
        # plan id -> (the store's files' signatures, folder, assignments.csv's signature)
        # when the store last checked that folder (PlanStore.folder_of).
        self._folders: OrderedDict[str, tuple[tuple[_Signature, _Signature], Path, _Signature]] = (
            OrderedDict()
        )

    def _store_signature(self) -> tuple[_Signature, _Signature]:
        """The plan store's database and write-ahead log files (any commit changes one)."""
        wal = self.store_path.with_name(self.store_path.name + "-wal")
        return (_signature(self.store_path), _signature(wal))

    def folder_of(self, plan: PlanVersion) -> Path:
        """The checked folder of ``plan`` (:meth:`PlanStore.folder_of`), remembered while
        the store and the folder's ``assignments.csv`` are unchanged.

        Raises
        ------
        territory_engine.store.StoreError
            The store no longer has the plan, or its folder is gone or replaced.
        """
        store_now = self._store_signature()
        with self._lock:
            known = self._folders.get(plan.plan_id)
        if known is not None:
            store_then, folder, assignments_then = known
            if store_then == store_now and (
                assignments_then is not None
                and _signature(folder / "assignments.csv") == assignments_then
            ):
                return folder
        store = self._store()
        if store is None:
            raise StoreError(f"no plan store at {self.store_path}")
        # The signature is taken before the check hashes the file: a change after it
        # is seen by the next request, a change before it fails the check.
        folder = store.folder_of(plan.plan_id, check=False)
        assignments_now = _signature(folder / "assignments.csv")
        checked = store.folder_of(plan.plan_id)
        with self._lock:
            self._folders[plan.plan_id] = (store_now, checked, assignments_now)
            self._folders.move_to_end(plan.plan_id)
            while len(self._folders) > FOLDER_CACHE_SIZE:
                self._folders.popitem(last=False)
        return checked

    def _store(self) -> PlanStore | None:
        if not self.store_path.is_file():
            return None
        return PlanStore(self.store_path, create=False)

    def sync(self, db: Session) -> int:
        """Add every plan of the store that has no plan version yet (as a draft).

        Returns
        -------
        int
            How many were added.
        """
        store = self._store()
        if store is None:
            return 0
        known = set(db.scalars(select(PlanVersion.plan_id)))
        added = 0
        for row in store.list().itertuples(index=False):
            if row.id in known:
                continue
            try:
                manifest = store.get(row.id).manifest
            except StoreError:
                continue  # removed meanwhile
            now = utcnow()
            db.add(
                PlanVersion(
                    plan_id=row.id,
                    name=str(row.scenario or row.id)[:256],
                    plan_year=plan_year(manifest, row.created_at),
                    state="draft",
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
            )
            try:
                db.commit()
                added += 1
            except IntegrityError:  # another process added it first
                db.rollback()
        return added

    def load(self, plan: PlanVersion) -> LoadedPlan:
        """The plan folder of ``plan`` (cached while its ``assignments.csv`` and
        ``hierarchy.csv`` are unchanged).

        Raises
        ------
        territory_engine.store.StoreError
            The store no longer has the plan, or its folder is gone or replaced.
        """
        folder = self.folder_of(plan)
        hierarchy = folder / HIERARCHY_FILE
        key = (
            str(folder),
            (folder / "assignments.csv").stat().st_mtime,
            hierarchy.stat().st_mtime if hierarchy.is_file() else 0.0,
        )
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                if key in self._cache:  # loaded by the request this one waited for
                    return self._cache[key]
            loaded = LoadedPlan(read_plan_folder(folder))
            with self._lock:
                self._cache[key] = loaded
                self._loading.pop(key, None)
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return loaded

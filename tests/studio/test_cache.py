"""The studio's caches of rep pages: made once, never across reps, never before the access check.

A rep's page parts (rows, standing, GeoJSON, accounts) are made once per loaded plan
folder and rep (:func:`territory_engine.studio.access._rep_parts`), so 50 reps
reloading their pages do not filter the plan again each time. A cache must never let
one user's rows reach another, and must not outlive what the access check decides:
these tests fill the cache as one user and ask as another, and change the plan's
state and folder under it.
"""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient

from territory_engine.studio import access
from tests.studio.conftest import copy_plan, csrf_of, login, make_studio


@pytest.fixture(scope="module")
def plan(studio_plan, tmp_path_factory):
    """A copy of the plan in a store of its own (these tests touch its folder's files)."""
    from territory_engine.store import PlanStore

    base = tmp_path_factory.mktemp("cache")
    folder = copy_plan(studio_plan, base / "out" / "fy_baseline")
    PlanStore(base / "out" / "plans.sqlite").record_folder(folder)
    return folder


@pytest.fixture(scope="module")
def clients(plan, tmp_path_factory):
    """Signed-in clients of a studio over ``plan``, its plan 1 published."""
    app = make_studio(plan, tmp_path_factory.mktemp("cache-db"))
    made = {}
    for name in ("planner", "mgr-ent", "rep-r01", "rep-r02"):
        client = TestClient(app)
        assert login(client, name).status_code == 303
        made[name] = client
    version = 1
    for name, action in (("planner", "submit"), ("mgr-ent", "approve"), ("planner", "publish")):
        done = made[name].post(
            "/api/plans/1/transition",
            json={"action": action, "version": version},
            headers={"X-CSRF-Token": csrf_of(made[name])},
        )
        assert done.status_code == 200, done.text
        version = done.json()["version"]
    yield made
    for client in made.values():
        client.close()


def _transition(client, action: str) -> None:
    version = client.get("/api/plans/1").json()["version"]
    done = client.post(
        "/api/plans/1/transition",
        json={"action": action, "version": version},
        headers={"X-CSRF-Token": csrf_of(client)},
    )
    assert done.status_code == 200, done.text


class _Counting:
    """Wraps :func:`access.rep_rows` and counts the rep ids it is asked for."""

    def __init__(self, real):
        self.real, self.asked = real, []

    def __call__(self, folder, rep_id):
        self.asked.append(rep_id)
        return self.real(folder, rep_id)


def _rep_ids(client, rep: str) -> set[str]:
    """The rep ids in the JSON behind ``rep``'s page (accounts and map)."""
    data = client.get(f"/api/plans/1/reps/{rep}").json()
    geo = client.get(f"/plans/1/reps/{rep}/territory.geojson").json()
    return {str(a["rep_id"]) for a in data["accounts"]} | {
        str(f["properties"]["rep_id"]) for f in geo["features"]
    }


def test_a_reps_parts_are_made_once_and_only_ever_show_that_rep(clients, monkeypatch):
    counting = _Counting(access.rep_rows)
    monkeypatch.setattr(access, "rep_rows", counting)
    r01, r02 = clients["rep-r01"], clients["rep-r02"]
    assert _rep_ids(r01, "R01") == {"R01"}
    for _ in range(3):
        assert r01.get("/plans/1/reps/R01").status_code == 200
        assert r01.get("/plans/1/reps/R01/accounts.csv").status_code == 200
    assert counting.asked.count("R01") <= 1  # made at most once (maybe before this test)
    # R01's parts are cached: R02 still gets only their own rows, and R01's are 404 to them
    assert _rep_ids(r02, "R02") == {"R02"}
    for route in ("/plans/1/reps/R01", "/plans/1/reps/R01/territory.geojson"):
        assert r02.get(route).status_code == 404
    assert "R01" not in r02.get("/plans/1/reps/R02/accounts.csv").text.split(",")
    assert counting.asked.count("R02") == 1  # three routes, one making of R02's parts
    # a planner may open R01's page: the same cached parts, the same rows
    assert _rep_ids(clients["planner"], "R01") == {"R01"}
    assert counting.asked.count("R01") <= 1


def test_the_access_check_runs_before_the_cache_when_the_plan_is_withdrawn(clients):
    r01 = clients["rep-r01"]
    assert r01.get("/plans/1/reps/R01").status_code == 200  # parts cached
    _transition(clients["planner"], "withdraw")
    try:
        for route in ("", "/territory.geojson", "/accounts.csv"):
            assert r01.get(f"/plans/1/reps/R01{route}").status_code == 404
        assert r01.get("/api/plans/1/reps/R01").status_code == 404
    finally:
        _transition(clients["planner"], "publish")
    assert r01.get("/plans/1/reps/R01").status_code == 200


def test_a_changed_folder_makes_the_parts_again(clients, plan, monkeypatch):
    counting = _Counting(access.rep_rows)
    monkeypatch.setattr(access, "rep_rows", counting)
    r01 = clients["rep-r01"]
    assert r01.get("/plans/1/reps/R01").status_code == 200
    before = counting.asked.count("R01")
    stat = os.stat(plan / "assignments.csv")
    os.utime(plan / "assignments.csv", ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    try:
        assert r01.get("/plans/1/reps/R01").status_code == 200
        assert counting.asked.count("R01") == before + 1  # the folder was loaded again
        assert r01.get("/plans/1/reps/R01").status_code == 200
        assert counting.asked.count("R01") == before + 1  # and its parts cached again
    finally:
        os.utime(plan / "assignments.csv", ns=(stat.st_atime_ns, stat.st_mtime_ns))

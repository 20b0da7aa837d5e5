"""Fixtures of the studio tests: one small plan of the sample, a studio on it, signed-in clients.

The plan is the sample's baseline solved once per test session with a 5 s time limit
(its quality does not matter here), with hostile text planted before it is recorded:
an account named ``<script>...`` and a rep whose name carries an ``<img onerror>``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCENARIO = REPO_ROOT / "scenarios" / "fy_baseline.yaml"

#: The password of every test user (long enough for the rules).
PASSWORD = "correct horse battery"
#: Hostile names planted in the plan.
SCRIPT_NAME = "<script>alert('pwned')</script> Corp"
IMG_NAME = '<img src=x onerror="alert(1)"> Rep'

#: username -> (role, rep_id, scope)
USERS = {
    "planner": ("planner", None, None),
    "mgr-ent": ("manager", None, "team:enterprise"),
    "mgr-r08": ("manager", None, "reps:R08"),
    "rep-r01": ("rep", "R01", None),
    "rep-r02": ("rep", "R02", None),
}


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing():
    """Argon2 with the smallest cost in these tests: hashing dozens of test users at the
    production cost would take most of the time budget. The algorithm and code path
    are the same; ``test_password_hash_is_argon2...`` checks the production hasher."""
    from argon2 import PasswordHasher

    from territory_engine.studio import security

    production = security._HASHER
    security._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield production
    security._HASHER = production


@pytest.fixture(scope="session")
def studio_plan(tmp_path_factory) -> Path:
    """A plan folder of the sample (5 s solve) with hostile names, recorded in a store."""
    from territory_engine.config import load_scenario
    from territory_engine.pipeline.run import run_scenario
    from territory_engine.plan.reader import read_plan_csv
    from territory_engine.store import PlanStore

    base = tmp_path_factory.mktemp("studio")
    scenario = load_scenario(SCENARIO)
    scenario = scenario.model_copy(
        update={"solver": scenario.solver.model_copy(update={"time_limit": 2})}
    )
    out = base / "out" / "fy_baseline"
    run_scenario(scenario, output=out, source=SCENARIO)
    from territory_engine.io.safe_cells import write_csv

    accounts = read_plan_csv(out / "accounts.csv")
    assignments = read_plan_csv(out / "assignments.csv")
    first_of_r01 = assignments.loc[assignments["rep_id"] == "R01", "account_id"].iloc[0]
    accounts.loc[accounts["account_id"] == first_of_r01, "name"] = SCRIPT_NAME
    write_csv(accounts, out / "accounts.csv")
    reps = read_plan_csv(out / "reps.csv")
    reps.loc[reps["rep_id"] == "R01", "name"] = IMG_NAME
    write_csv(reps, out / "reps.csv")
    PlanStore(base / "out" / "plans.sqlite").record_folder(out)
    return out


def make_studio(plan: Path, db_dir: Path, **policy):
    """A fresh studio database (with :data:`USERS`) over ``plan``'s store; the app."""
    from territory_engine.studio import Policy, create_app
    from territory_engine.studio.db import open_database
    from territory_engine.studio.users import add_user

    url = f"sqlite:///{db_dir / 'studio.sqlite'}"
    factory = open_database(url)
    with factory() as db:
        for name, (role, rep_id, scope) in USERS.items():
            add_user(db, name, role, PASSWORD, rep_id=rep_id, scope=scope)
    return create_app(url, plan.parent / "plans.sqlite", policy=Policy(**policy))


@pytest.fixture(scope="module")
def studio(studio_plan, tmp_path_factory):
    """The app over :func:`studio_plan` with a database of its own per test module."""
    return make_studio(studio_plan, tmp_path_factory.mktemp("db"))


def login(client, username: str, password: str = PASSWORD):
    """Sign in through the form (fetching its token first); the POST's response."""
    page = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/login",
        data={"username": username, "password": password, "login_token": token},
        follow_redirects=False,
    )


def csrf_of(client) -> str:
    """The signed-in client's CSRF token (from /api/me)."""
    return client.get("/api/me").json()["csrf_token"]


@pytest.fixture(scope="module")
def clients(studio):
    """A signed-in TestClient per user of :data:`USERS` (module-scoped)."""
    from fastapi.testclient import TestClient

    made = {}
    for name in USERS:
        client = TestClient(studio)
        response = login(client, name)
        assert response.status_code == 303, response.text
        made[name] = client
    yield made
    for client in made.values():
        client.close()


def plan_frames(plan: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(reps.csv, accounts with assignments) of the plan folder."""
    from territory_engine.plan.reader import read_plan_folder

    folder = read_plan_folder(plan)
    return folder.reps, folder.account_view()


def copy_plan(plan: Path, target: Path) -> Path:
    shutil.copytree(plan, target)
    return target

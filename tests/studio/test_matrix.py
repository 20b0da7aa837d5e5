"""The security matrix: every route × every role × another user's ids, over HTTP (TestClient).

The sample's reps: R01–R07 enterprise, R08–R21 commercial, R22–R45 SMB. The users
(conftest.USERS): a planner, an enterprise-team manager, a manager of rep R08 only, and
the reps R01 and R02.

Every case runs twice: on the default SQLite database (``[sqlite]``) and on a real
PostgreSQL server (``[postgresql]``, :mod:`tests.studio.pg`; skipped, saying
why, where PostgreSQL cannot start).
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.studio.conftest import SCRIPT_NAME, USERS, csrf_of, login, make_studio, plan_frames
from tests.studio.pg import make_studio_on, postgres_database, postgres_server  # noqa: F401

ENTERPRISE = [f"R{i:02d}" for i in range(1, 8)]

#: Every GET route that shows plan data, with {plan} and {rep} to fill.
PLAN_ROUTES = [
    "/plans/{plan}",
    "/plans/{plan}/territories.geojson",
    "/plans/{plan}/accounts.csv",
    "/api/plans/{plan}",
    "/api/plans/{plan}/territories.geojson",
]
REP_ROUTES = [
    "/plans/{plan}/reps/{rep}",
    "/plans/{plan}/reps/{rep}/territory.geojson",
    "/plans/{plan}/reps/{rep}/accounts.csv",
    "/api/plans/{plan}/reps/{rep}",
    "/api/plans/{plan}/reps/{rep}/territory.geojson",
]
PLANNER_ROUTES = ["/audit", "/audit.csv"]
#: The planner's editor (studio/editor.py): planner only, 404 for everyone else.
EDITOR_ROUTES = [
    "/plans/{plan}/edit",
    "/api/plans/{plan}/units.geojson",
    "/api/plans/{plan}/edit",
    "/api/jobs",
]
#: The compare routes (the matrix's store has one plan: it is compared with itself).
COMPARE_ROUTES = [
    "/plans/{plan}/compare/{plan}",
    "/plans/{plan}/compare?b={plan}",
    "/api/plans/{plan}/compare/{plan}",
    "/api/plans/{plan}/compare/{plan}/moves.geojson",
]
#: user -> (the rep ids they may see, a rep of theirs, a rep outside their scope);
#: ``None`` for the planner (everything).
SCOPES: dict[str, tuple[set[str] | None, str, str]] = {
    "planner": (None, "R30", "R99"),
    "mgr-ent": (set(ENTERPRISE), "R03", "R08"),
    "mgr-r08": ({"R08"}, "R08", "R09"),
    "rep-r01": ({"R01"}, "R01", "R02"),
    "rep-r02": ({"R02"}, "R02", "R01"),
}

HOSTILE = [
    "1' OR '1'='1",
    "1; DROP TABLE users; --",
    "%27%20OR%201=1",
    "R01' --",
    "1 UNION SELECT password_hash FROM users",
    "99999999999999999999",
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def studio(request, studio_plan, tmp_path_factory):
    """conftest's ``studio`` on SQLite, then the same app on PostgreSQL."""
    if request.param == "sqlite":
        yield make_studio(studio_plan, tmp_path_factory.mktemp("db"))
        return
    server = request.getfixturevalue("postgres_server")
    app = make_studio_on(postgres_database(server, "te_matrix"), studio_plan)
    yield app
    app.state.factory.kw["bind"].dispose()  # its connections, before the server stops


@pytest.fixture(scope="module")
def people(studio_plan):
    reps, accounts = plan_frames(studio_plan)
    return reps, accounts


def _other_reps_text(people, keep: set[str]) -> tuple[list[str], list[str]]:
    """Names and account ids of the reps not in ``keep`` (what must not leak)."""
    reps, accounts = people
    others = reps[~reps["rep_id"].isin(keep)]
    names = [n for n in others["name"] if len(n) > 6]
    foreign = accounts[~accounts["rep_id"].isin(keep)]["account_id"].tolist()
    return names, foreign


def _assert_no_leak(body: str, people, keep: set[str]) -> None:
    names, foreign = _other_reps_text(people, keep)
    for name in names:
        assert name not in body, f"leaked rep name {name!r}"
    for account in foreign[:400]:
        assert account not in body, f"leaked account {account}"
    reps = people[0]
    for rep_id in reps["rep_id"]:
        if rep_id not in keep:
            assert not re.search(rf"\b{rep_id}\b", body), f"leaked rep id {rep_id}"


# ------------------------------------------------------------------ before publishing


def test_a_draft_is_the_planners_only(clients):
    assert clients["planner"].get("/plans/1").status_code == 200
    for name in ("mgr-ent", "rep-r01"):
        for route in PLAN_ROUTES:
            assert clients[name].get(route.format(plan=1)).status_code == 404, (name, route)
    assert "FY2027" not in clients["mgr-ent"].get("/plans").text
    assert "No published territory" in clients["rep-r01"].get("/me").text


def test_signed_out_requests_go_to_sign_in(studio):
    with TestClient(studio) as anon:
        response = anon.get("/plans/1", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login"
        assert anon.get("/api/plans/1").status_code == 401
        assert anon.post("/plans/1/action/submit", data={"version": 1}).status_code == 401


def test_every_route_signed_out_goes_to_sign_in_and_shows_nothing(studio):
    gets = [*PLAN_ROUTES, *COMPARE_ROUTES, *REP_ROUTES, *PLANNER_ROUTES, "/", "/plans", "/me"]
    gets += ["/api/me", "/api/plans", *EDITOR_ROUTES, "/api/jobs/1"]
    posts = [
        "/plans/1/action/submit",
        "/plans/1/comments",
        "/api/plans/1/transition",
        "/api/plans/1/comments",
        "/api/plans/1/edit",
        "/api/plans/1/reoptimise",
        "/logout",
    ]
    with TestClient(studio) as anon:
        for route in gets:
            url = route.format(plan=1, rep="R01")
            response = anon.get(url, follow_redirects=False)
            if url.startswith("/api/"):
                assert response.status_code == 401, url
            else:
                assert response.status_code == 303, url
                assert response.headers["location"] == "/login", url
            assert "R01" not in response.text and "R02" not in response.text, url
        for url in posts:
            assert anon.post(url, data={"version": "1"}).status_code == 401, url


def test_csrf_missing_wrong_or_of_another_session_is_refused(clients):
    planner = clients["planner"]
    other = csrf_of(clients["mgr-ent"])
    for token in (None, "", "wrong", other):
        data = {"version": "1"} if token is None else {"version": "1", "csrf_token": token}
        response = planner.post("/plans/1/action/submit", data=data)
        assert response.status_code == 403, token
        assert "reload the page" in response.text
        api = planner.post(
            "/api/plans/1/transition",
            json={"action": "submit", "version": 1},
            headers={} if token is None else {"X-CSRF-Token": token},
        )
        assert api.status_code == 403
    assert planner.get("/api/plans/1").json()["state"] == "draft"  # nothing applied
    assert planner.post("/logout", data={}).status_code == 403
    assert planner.get("/api/me").status_code == 200  # still signed in


def test_two_saves_of_one_version_one_succeeds_one_gets_409(clients):
    planner = clients["planner"]
    token = csrf_of(planner)
    form = {"csrf_token": token, "version": "1"}
    first = planner.post("/plans/1/action/submit", data=form, follow_redirects=False)
    second = planner.post("/plans/1/action/submit", data=form, follow_redirects=False)
    assert first.status_code == 303
    assert second.status_code == 409 and "reload" in second.text
    assert planner.get("/api/plans/1").json()["version"] == 2


def test_a_manager_may_approve_but_not_publish(clients):
    manager = clients["mgr-ent"]
    token = csrf_of(manager)
    refused = manager.post(
        "/api/plans/1/transition",
        json={"action": "publish", "version": 2},
        headers={"X-CSRF-Token": token},
    )
    assert refused.status_code == 403 and "may not publish" in refused.json()["error"]
    reject = manager.post(
        "/api/plans/1/transition",
        json={"action": "reject", "version": 2, "comment": ""},
        headers={"X-CSRF-Token": token},
    )
    assert reject.status_code == 403 and "comment" in reject.json()["error"]


@pytest.fixture(scope="module")
def published(clients):
    """Plan 1 approved by the enterprise manager and published by the planner."""
    manager, planner = clients["mgr-ent"], clients["planner"]
    state = planner.get("/api/plans/1").json()
    assert state["state"] == "submitted"
    approved = manager.post(
        "/api/plans/1/transition",
        json={"action": "approve", "version": state["version"]},
        headers={"X-CSRF-Token": csrf_of(manager)},
    )
    assert approved.status_code == 200, approved.text
    done = planner.post(
        "/api/plans/1/transition",
        json={"action": "publish", "version": approved.json()["version"]},
        headers={"X-CSRF-Token": csrf_of(planner)},
    )
    assert done.status_code == 200 and done.json()["state"] == "published"
    return 1


# ------------------------------------------------------------------ the matrix


def test_planner_sees_every_route(clients, published):
    planner = clients["planner"]
    for route in [*PLAN_ROUTES, *PLANNER_ROUTES]:
        assert planner.get(route.format(plan=published)).status_code == 200, route
    for route in REP_ROUTES:
        assert planner.get(route.format(plan=published, rep="R30")).status_code == 200, route
        assert planner.get(route.format(plan=published, rep="R99")).status_code == 404, route
    geo = planner.get(f"/plans/{published}/territories.geojson").json()
    assert len(geo["features"]) == 45


@pytest.mark.parametrize("name", ["rep-r01", "rep-r02"])
def test_a_rep_gets_404_for_everything_but_their_own(clients, published, people, name):
    client = clients[name]
    own = "R01" if name == "rep-r01" else "R02"
    other = "R02" if own == "R01" else "R01"
    for route in [*PLAN_ROUTES, *PLANNER_ROUTES, "/api/plans"]:
        response = client.get(route.format(plan=published))
        assert response.status_code == 404, route
        _assert_no_leak(response.text, people, set())
    for route in REP_ROUTES:
        for rep in (other, "R30", "R99"):
            response = client.get(route.format(plan=published, rep=rep))
            assert response.status_code == 404, (route, rep)
            assert rep not in response.text
        mine = client.get(route.format(plan=published, rep=own))
        assert mine.status_code == 200, route
        _assert_no_leak(mine.text, people, {own})
    assert client.get("/plans", follow_redirects=False).headers["location"] == "/me"
    home = client.get("/me", follow_redirects=False)
    assert home.headers["location"] == f"/plans/{published}/reps/{own}"


def test_the_json_behind_a_reps_map_holds_only_their_rows(clients, published, people):
    client = clients["rep-r01"]
    geo = client.get(f"/plans/{published}/reps/R01/territory.geojson").json()
    assert [f["properties"]["rep_id"] for f in geo["features"]] == ["R01"]
    data = client.get(f"/api/plans/{published}/reps/R01").json()
    assert {a["rep_id"] for a in data["accounts"]} == {"R01"}
    assert len(data["accounts"]) == int((people[1]["rep_id"] == "R01").sum())
    assert "previous_rep_id" not in data["accounts"][0]
    standing = {row["figure"]: row for row in data["standing"]}
    assert set(standing["potential"]) == {"figure", "rep", "median", "min", "max", "team_size"}
    assert standing["potential"]["team_size"] == 7


def test_an_enterprise_manager_sees_only_the_enterprise_team(clients, published, people):
    client = clients["mgr-ent"]
    page = client.get(f"/plans/{published}")
    assert page.status_code == 200
    _assert_no_leak(page.text, people, set(ENTERPRISE))
    geo = client.get(f"/plans/{published}/territories.geojson").json()
    assert sorted(f["properties"]["rep_id"] for f in geo["features"]) == ENTERPRISE
    csv_text = client.get(f"/plans/{published}/accounts.csv").text
    _assert_no_leak(csv_text, people, set(ENTERPRISE))
    rows = client.get(f"/api/plans/{published}").json()["territories"]
    assert sorted(r["rep_id"] for r in rows) == ENTERPRISE
    for route in REP_ROUTES:
        assert client.get(route.format(plan=published, rep="R03")).status_code == 200
        assert client.get(route.format(plan=published, rep="R08")).status_code == 404
    for route in PLANNER_ROUTES:
        assert client.get(route).status_code == 404


def test_a_manager_of_one_rep_sees_only_that_rep(clients, published, people):
    client = clients["mgr-r08"]
    geo = client.get(f"/plans/{published}/territories.geojson").json()
    assert [f["properties"]["rep_id"] for f in geo["features"]] == ["R08"]
    _assert_no_leak(client.get(f"/plans/{published}").text, people, {"R08"})
    assert client.get(f"/plans/{published}/reps/R09").status_code == 404


@pytest.mark.parametrize("name", sorted(SCOPES))
def test_every_get_route_by_role_right_status_and_no_leak(clients, published, people, name):
    """The whole table: each GET route as each user, with an id of theirs and one of
    someone else's; every 200 holds only the user's scope."""
    client = clients[name]
    keep, mine, theirs = SCOPES[name]
    role = USERS[name][0]
    plan_wide = [*PLAN_ROUTES, *COMPARE_ROUTES, "/api/plans"]
    expected = {r: (404 if role == "rep" else 200) for r in plan_wide}
    expected.update({r: (200 if role == "planner" else 404) for r in PLANNER_ROUTES})
    expected.update({r: (200 if role == "planner" else 404) for r in EDITOR_ROUTES})
    for route, status in expected.items():
        response = client.get(route.format(plan=published))
        assert response.status_code == status, (name, route, response.status_code)
        if keep is not None:
            _assert_no_leak(response.text, people, keep if status == 200 else set())
    for route in REP_ROUTES:
        ok = client.get(route.format(plan=published, rep=mine))
        assert ok.status_code == 200, (name, route)
        if keep is not None:
            _assert_no_leak(ok.text, people, keep)
        refused = client.get(route.format(plan=published, rep=theirs))
        assert refused.status_code == 404, (name, route)
        assert theirs not in refused.text
    me = client.get("/api/me").json()
    assert me["username"] == name and me["role"] == role
    home = client.get("/me", follow_redirects=False).headers["location"]
    assert home == (f"/plans/{published}/reps/{mine}" if role == "rep" else "/plans")


@pytest.mark.parametrize("name", ["mgr-ent", "mgr-r08", "rep-r01"])
def test_state_changes_outside_the_users_rights_change_nothing(clients, published, name):
    """Every POST route with a valid CSRF token: a rep gets 404 (no plan page of theirs),
    a manager 403 where the role may not, 404 for a territory outside the scope."""
    client = clients[name]
    token = csrf_of(client)
    before = clients["planner"].get(f"/api/plans/{published}").json()
    role = USERS[name][0]
    hidden = 404 if role == "rep" else 403
    outside = "T-R30"
    attempts = [
        ("form", f"/plans/{published}/action/withdraw", {"version": before["version"]}, hidden),
        ("form", f"/plans/{published}/action/publish", {"version": before["version"]}, hidden),
        ("form", f"/plans/{published}/comments", {"body": "x", "territory_id": outside}, 404),
        (
            "json",
            f"/api/plans/{published}/transition",
            {"action": "withdraw", "version": before["version"]},
            hidden,
        ),
        ("json", f"/api/plans/{published}/comments", {"body": "x", "territory_id": outside}, 404),
        (
            "json",
            f"/api/plans/{published}/edit",
            {"moves": [{"unit_id": "x", "to_territory_id": "T-R01"}]},
            hidden,
        ),
        (
            "json",
            f"/api/plans/{published}/reoptimise",
            {"moves": [{"unit_id": "x", "to_territory_id": "T-R01"}]},
            404,
        ),
    ]
    for kind, url, body, status in attempts:
        if kind == "form":
            response = client.post(url, data={**body, "csrf_token": token})
        else:
            response = client.post(url, json=body, headers={"X-CSRF-Token": token})
        assert response.status_code == status, (name, url, response.status_code)
    if role == "rep":  # not even a plan-wide comment
        response = client.post(
            f"/plans/{published}/comments", data={"body": "hi", "csrf_token": token}
        )
        assert response.status_code == 404
    after = clients["planner"].get(f"/api/plans/{published}").json()
    assert (after["state"], after["version"]) == (before["state"], before["version"])
    assert after["comments"] == before["comments"]


@pytest.mark.parametrize("name", ["planner", "rep-r01"])
def test_sql_metacharacters_in_ids_and_filters_are_404_or_400_never_500(clients, published, name):
    client = clients[name]
    for bad in HOSTILE:
        urls = [r.format(plan=bad) for r in PLAN_ROUTES]
        urls += [r.format(plan=bad, rep="R01") for r in REP_ROUTES]
        urls += [r.format(plan=published, rep=bad) for r in REP_ROUTES]
        urls += [f"/plans/{published}/compare/{bad}", f"/api/plans/{bad}/compare/{published}"]
        urls += [f"/plans/{published}/compare?b={bad}"]
        for url in urls:
            response = client.get(url)
            assert response.status_code in (400, 404), (url, response.status_code)
        for url in (f"/plans?state={bad}", f"/api/plans?state={bad}", f"/audit?action={bad}"):
            assert client.get(url).status_code in (400, 404), url
        response = client.post(
            f"/plans/{bad}/action/approve", data={"csrf_token": csrf_of(client), "version": bad}
        )
        assert response.status_code in (400, 404), bad
    assert client.get("/api/me").status_code == 200  # the users table is still there


def test_untrusted_names_are_inert_in_every_page(clients, published):
    planner = clients["planner"]
    for url in (f"/plans/{published}/reps/R01", f"/plans/{published}"):
        body = planner.get(url).text
        assert "<script>alert(" not in body and "<img src=x" not in body
    rep_page = planner.get(f"/plans/{published}/reps/R01").text
    assert "&lt;script&gt;alert(" in rep_page
    assert "&lt;img src=x onerror=" in rep_page
    own = clients["rep-r01"].get(f"/plans/{published}/reps/R01").text
    assert "<script>alert(" not in own and "&lt;script&gt;" in own
    # the only scripts of a page are the served files (no inline script at all)
    assert re.findall(r"<script[^>]*>", own) == [
        '<script src="/assets/leaflet.js">',
        '<script src="/static/studio.js">',
    ]
    geo = planner.get(f"/plans/{published}/territories.geojson")
    assert geo.headers["content-type"].startswith("application/geo+json")
    assert SCRIPT_NAME in planner.get(f"/plans/{published}/accounts.csv").text


def test_every_response_has_the_security_headers(clients, published):
    for url in ("/login", f"/plans/{published}", "/static/studio.js", "/assets/leaflet.js"):
        headers = clients["planner"].get(url).headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
    assert clients["planner"].get(f"/plans/{published}").headers["cache-control"] == "no-store"


def test_session_cookie_flags_over_http_and_https(studio):
    for base, secure in (("http://testserver", False), ("https://testserver", True)):
        with TestClient(studio, base_url=base) as client:
            response = login(client, "planner")
            assert response.status_code == 303
            cookie = next(
                c for c in response.headers.get_list("set-cookie") if c.startswith("te_session=")
            )
            assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
            assert ("Secure" in cookie) is secure
            assert ("strict-transport-security" in response.headers) is secure


def test_sign_out_ends_the_session_on_the_server(studio):
    with TestClient(studio) as client:
        login(client, "planner")
        stolen = client.cookies.get("te_session")
        token = csrf_of(client)
        assert client.post("/logout", data={"csrf_token": token}).status_code == 200
    with TestClient(studio, cookies={"te_session": stolen}) as thief:
        assert thief.get("/api/me").status_code == 401
    with TestClient(studio, cookies={"te_session": stolen[:-3] + "abc"}) as forger:
        assert forger.get("/api/me").status_code == 401


def test_signing_in_again_ends_the_previous_session(studio):
    with TestClient(studio) as client:
        login(client, "planner")
        first = client.cookies.get("te_session")
        login(client, "planner")
        assert client.cookies.get("te_session") != first
        assert client.get("/api/me").status_code == 200
    with TestClient(studio, cookies={"te_session": first}) as old:
        assert old.get("/api/me").status_code == 401


def test_sign_in_without_the_forms_token_is_refused(studio):
    with TestClient(studio) as client:
        response = client.post("/login", data={"username": "planner", "password": "x" * 12})
        assert response.status_code == 403


def test_comments_are_scoped_and_audited(clients, published):
    manager = clients["mgr-ent"]
    token = csrf_of(manager)
    ok = manager.post(
        f"/plans/{published}/comments",
        data={"csrf_token": token, "body": "R03 <b>needs</b> Atlanta", "territory_id": "T-R03"},
    )
    assert ok.status_code == 200 and "R03 &lt;b&gt;needs&lt;/b&gt; Atlanta" in ok.text
    outside = manager.post(
        f"/plans/{published}/comments",
        data={"csrf_token": token, "body": "hi", "territory_id": "T-R30"},
    )
    assert outside.status_code == 404
    assert "needs" not in clients["mgr-r08"].get(f"/plans/{published}").text
    audit_csv = clients["planner"].get("/audit.csv").text
    assert "comment" in audit_csv and "approve" in audit_csv and "publish" in audit_csv


def test_repeated_wrong_passwords_lock_the_sign_in_with_a_message(studio):
    with TestClient(studio) as client:
        for _ in range(5):
            assert login(client, "mgr-r08", "wrong password").status_code == 401
        locked = login(client, "mgr-r08")  # the right password, but locked
        assert locked.status_code == 429
        assert "too many failed sign-ins" in locked.text and "minutes" in locked.text
    with TestClient(studio) as planner:
        login(planner, "planner")
        log = planner.get("/audit?action=lock_out").text
        assert "mgr-r08" in log

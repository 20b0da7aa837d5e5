"""The Territory Studio ASGI application (FastAPI, server-rendered Jinja2 pages).

:func:`base_app` builds it from a database URL and a plan store (:func:`.server.create_app`
adds the planner's editor). The routes are thin:
who is signed in comes from :func:`signed_in` (a server-side session behind a signed
cookie), what they may see from :class:`territory_engine.studio.access.Access`, state
changes go through :mod:`.workflow` after :func:`_check_csrf`. Pages and the JSON API
under ``/api`` call the same :class:`Access` methods, so they are scoped identically.

Security properties (tested in ``tests/studio``):

- every response has a Content-Security-Policy without inline scripts or styles
  (``default-src 'self'``, ``frame-ancestors 'none'``), ``X-Content-Type-Options:
  nosniff``, ``Referrer-Policy: no-referrer`` and, for dynamic content,
  ``Cache-Control: no-store``;
- the session cookie is HttpOnly, SameSite=Lax, Secure when the request came over
  https, and holds a signed random token whose hash keys the server-side session row;
- every POST needs the session's CSRF token (form field ``csrf_token`` or header
  ``X-CSRF-Token``), compared in constant time; the sign-in form has its own token in
  a signed cookie (no login CSRF);
- Jinja2 autoescapes every template, and the map's data is fetched as JSON and drawn
  as text by ``static/studio.js``, so an account named ``<script>`` stays text.
"""

import contextlib
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any

import jinja2
import pandas as pd
from fastapi import APIRouter, Body, Depends, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from territory_engine.errors import TerritoryEngineError
from territory_engine.io.safe_cells import csv_text
from territory_engine.render.rep_view import _figure_label
from territory_engine.studio import audit
from territory_engine.studio.access import Access, ComparePage, NotFound, RepPage, headline
from territory_engine.studio.auth import (
    LockedOut,
    Policy,
    current_session,
    end_session,
    sign_in,
)
from territory_engine.studio.catalogue import Catalogue
from territory_engine.studio.db import open_database, server_secret
from territory_engine.studio.editing import MAX_MOVES, EditResult, Move, save_folder
from territory_engine.studio.models import STATES, PlanVersion, User, UserSession, utcnow
from territory_engine.studio.previews import Previews
from territory_engine.studio.reoptimise import record_version
from territory_engine.studio.security import CookieSigner, new_token, tokens_match
from territory_engine.studio.workflow import (
    TRANSITIONS,
    StaleVersion,
    WorkflowError,
    allowed_actions,
    apply_transition,
)

__all__ = ["SESSION_COOKIE", "base_app"]

#: Name of the session cookie.
SESSION_COOKIE = "te_session"
#: Name of the sign-in form's CSRF cookie.
LOGIN_COOKIE = "te_login"
#: Folder beside the plan store where the planners' edits are scored and saved.
EDITS_FOLDER = "studio_versions"

_HERE = Path(__file__).resolve().parent
_ASSETS = _HERE.parent / "render" / "assets"
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


class _SignInNeeded(Exception):
    """No valid session: pages redirect to the sign-in page, the API answers 401."""


class _Forbidden(Exception):
    """A visible thing the user may not change (a CSRF failure, a role that may not)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def base_app(
    db_url: str, store: Path, *, policy: Policy | None = None, preview_processes: int = 0
) -> FastAPI:
    """The studio's pages and API without the planner's editor (see :func:`.server.create_app`).

    On the database ``db_url`` (migrated first) and the plan store ``store``.

    Parameters
    ----------
    db_url
        SQLAlchemy URL of the studio's database.
    store
        The plan store whose plans are served.
    policy
        Session lifetimes and sign-in throttling (default :class:`Policy`).
    preview_processes
        Processes that re-score edit previews (:class:`~.previews.Previews`; 0: in
        the request's thread). They stop when the app's lifespan ends.
    """
    factory = open_database(db_url)
    catalogue = Catalogue(store)
    with factory() as db:
        catalogue.sync(db)
    policy = policy or Policy()
    key = server_secret(factory)
    session_signer = CookieSigner(key, "session")
    login_signer = CookieSigner(key, "login")
    # Autoescape every template, whatever its name: untrusted names are always text.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_HERE / "templates")), autoescape=True
    )
    templates = Jinja2Templates(env=env)
    templates.env.filters["figure"] = lambda f, unit="km": _figure_label(str(f), unit)
    templates.env.filters["num"] = _number

    previews = Previews(preview_processes)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            previews.close()

    app = FastAPI(
        title="Territory Studio",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.previews = previews
    app.state.factory = factory
    app.state.catalogue = catalogue
    app.state.policy = policy
    app.state.session_signer = session_signer
    app.state.login_signer = login_signer
    app.state.templates = templates
    app.mount("/assets", StaticFiles(directory=str(_ASSETS)), name="assets")
    app.mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static")

    app.middleware("http")(_security_headers)
    for error, handler in _HANDLERS.items():
        app.add_exception_handler(error, handler)
    app.include_router(router)
    return app


async def _security_headers(request: Request, call_next):
    response = await call_next(request)
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    if request.url.scheme == "https":
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    if not request.url.path.startswith(("/assets/", "/static/")):
        response.headers["Cache-Control"] = "no-store"
    return response


router = APIRouter()
#: Exception handlers, registered on the app by :func:`base_app`.
_HANDLERS: dict[type[Exception], Any] = {}


def _handles(error: type[Exception]):
    def register(handler):
        _HANDLERS[error] = handler
        return handler

    return register


# ---------------------------------------------------------------- dependencies


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.factory() as db:
        yield db


Db = Annotated[Session, Depends(get_db)]


def signed_in(request: Request, db: Db) -> tuple[User, UserSession]:
    token = request.app.state.session_signer.unsign(request.cookies.get(SESSION_COOKIE))
    found = current_session(db, token, request.app.state.policy)
    if found is None:
        raise _SignInNeeded()
    return found


Who = Annotated[tuple[User, UserSession], Depends(signed_in)]


def access(request: Request, db: Db, who: Who) -> Access:
    return Access(db, request.app.state.catalogue, who[0])


Acc = Annotated[Access, Depends(access)]


async def check_csrf(request: Request, who: Who) -> None:
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        given = value if isinstance(value, str) else None
    if not tokens_match(who[1].csrf_token, given):
        raise _Forbidden("the form expired or did not come from this site: reload the page")


Csrf = Depends(check_csrf)


def render(request: Request, name: str, context: dict[str, Any], status: int = 200):
    return request.app.state.templates.TemplateResponse(request, name, context, status_code=status)


# ---------------------------------------------------------------- errors


@_handles(_SignInNeeded)
async def _sign_in_needed(request: Request, _exc: _SignInNeeded):
    if _is_api(request) or request.method != "GET":
        return JSONResponse({"error": "sign in first"}, status_code=401)
    return RedirectResponse("/login", status_code=303)


@_handles(NotFound)
async def _not_found(request: Request, _exc: NotFound):
    return _error(request, 404, "Not found")


@_handles(StarletteHTTPException)
async def _http_error(request: Request, exc: StarletteHTTPException):
    return _error(request, exc.status_code, str(exc.detail))


@_handles(RequestValidationError)
async def _invalid(request: Request, _exc: RequestValidationError):
    return _error(request, 400, "Bad request: a field is missing or malformed")


@_handles(_Forbidden)
async def _forbidden(request: Request, exc: _Forbidden):
    return _error(request, 403, exc.message)


@_handles(WorkflowError)
async def _workflow(request: Request, exc: WorkflowError):
    return _error(request, exc.status, str(exc))


def _error(request: Request, status: int, message: str) -> Response:
    if _is_api(request):
        return JSONResponse({"error": message}, status_code=status)
    return render(request, "error.html", {"status": status, "message": message}, status)


# ---------------------------------------------------------------- sign-in


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request):
    token = new_token()
    response = render(request, "login.html", {"login_token": token, "message": None})
    _set_cookie(request, response, LOGIN_COOKIE, request.app.state.login_signer.sign(token), None)
    return response


@router.post("/login")
def login(
    request: Request,
    db: Db,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    login_token: Annotated[str, Form(max_length=200)] = "",
):
    expected = request.app.state.login_signer.unsign(request.cookies.get(LOGIN_COOKIE))
    if not tokens_match(expected, login_token):
        raise _Forbidden("the sign-in form expired: reload the page")
    try:
        result = sign_in(db, username, password, _client(request), request.app.state.policy)
    except LockedOut as exc:
        return _login_again(request, str(exc), 429)
    if result is None:
        return _login_again(request, "wrong user name or password", 401)
    # A new session on every sign-in (no fixation); the one this browser had ends.
    previous = request.app.state.session_signer.unsign(request.cookies.get(SESSION_COOKIE))
    if previous:
        end_session(db, previous, _client(request))
    response = RedirectResponse("/", status_code=303)
    _set_cookie(
        request,
        response,
        SESSION_COOKIE,
        request.app.state.session_signer.sign(result.token),
        int(request.app.state.policy.absolute.total_seconds()),
    )
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


def _login_again(request: Request, message: str, status: int) -> Response:
    token = new_token()
    response = render(request, "login.html", {"login_token": token, "message": message}, status)
    _set_cookie(request, response, LOGIN_COOKIE, request.app.state.login_signer.sign(token), None)
    return response


@router.post("/logout", dependencies=[Csrf])
def logout(request: Request, db: Db):
    end_session(
        db,
        request.app.state.session_signer.unsign(request.cookies.get(SESSION_COOKIE)),
        _client(request),
    )
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ---------------------------------------------------------------- pages


@router.get("/favicon.ico", include_in_schema=False)
def favicon():
    return Response(status_code=204)


@router.get("/")
def home(who: Who):
    return RedirectResponse("/me" if who[0].role == "rep" else "/plans", status_code=303)


def _base(who: tuple[User, UserSession]) -> dict[str, Any]:
    return {"user": who[0], "csrf_token": who[1].csrf_token}


def _state_filter(state: str | None) -> str | None:
    if state in (None, ""):
        return None
    if state not in STATES:
        raise StarletteHTTPException(400, f"unknown state; one of {', '.join(STATES)}")
    return state


@router.get("/plans", response_class=HTMLResponse)
def plans_page(request: Request, who: Who, acc: Acc, db: Db, state: str | None = None):
    wanted = _state_filter(state)
    if who[0].role == "rep":
        return RedirectResponse("/me", status_code=303)
    if who[0].role == "planner":
        request.app.state.catalogue.sync(db)
    plans = [p for p in acc.plans() if wanted is None or p.state == wanted]
    return render(request, "plans.html", {**_base(who), "plans": plans, "states": STATES})


@router.get("/plans/{plan_id}", response_class=HTMLResponse)
def plan_page(request: Request, plan_id: str, who: Who, acc: Acc):
    plan = acc.plan_page(plan_id)
    loaded = acc.load(plan)
    territories = acc.territories(loaded)
    columns = [
        c
        for c in ("territory_id", "rep_id", "rep_name", "segment", "n_accounts", "potential")
        if c in territories
    ]
    columns += [f"{m}_dev_pct" for m in loaded.folder.measures if f"{m}_dev_pct" in territories]
    return render(
        request,
        "plan.html",
        {
            **_base(who),
            "plan": plan,
            "headline": headline(loaded.folder.scorecard),
            "violations": acc.violations(loaded),
            "columns": columns,
            "rows": territories[columns].to_dict("records"),
            "actions": allowed_actions(plan, who[0].role),
            "comments": acc.comments(plan, loaded),
            "territory_ids": acc.territory_ids(loaded),
            "others": [p for p in acc.plans() if p.id != plan.id],
        },
    )


@router.get("/plans/{plan_id}/territories.geojson")
def plan_geojson(plan_id: str, acc: Acc):
    plan = acc.plan_page(plan_id)
    return JSONResponse(acc.geojson(acc.load(plan)), media_type="application/geo+json")


def _audited_csv(
    request: Request,
    db: Session,
    who: tuple,
    frame: pd.DataFrame,
    what: str,
    filename: str,
    text: str | None = None,
) -> Response:
    """``frame`` as a safe CSV download ``filename``, its export of ``what`` audited.

    ``text`` is ``frame``'s :func:`csv_text` when it was made already.
    """
    audit.record(
        db,
        who[0].username,
        "export",
        target=what,
        detail=f"{len(frame)} rows",
        client=_client(request),
    )
    db.commit()
    return _csv(csv_text(frame) if text is None else text, filename)


@router.get("/plans/{plan_id}/accounts.csv")
def plan_accounts(request: Request, plan_id: str, acc: Acc, db: Db, who: Who):
    plan = acc.plan_page(plan_id)
    frame = acc.accounts(acc.load(plan))
    what, filename = f"plan {plan.id} accounts.csv", f"plan-{plan.id}-accounts.csv"
    return _audited_csv(request, db, who, frame, what, filename)


@router.post("/plans/{plan_id}/action/{action}", dependencies=[Csrf])
def plan_action(
    request: Request,
    plan_id: str,
    action: str,
    who: Who,
    acc: Acc,
    db: Db,
    version: Annotated[int, Form()],
    comment: Annotated[str, Form(max_length=5000)] = "",
):
    plan = acc.plan_page(plan_id)
    if action not in TRANSITIONS:
        raise NotFound(action)
    apply_transition(
        db, plan, action, who[0], seen_version=version, comment=comment, client=_client(request)
    )
    return RedirectResponse(f"/plans/{plan.id}", status_code=303)


@router.post("/plans/{plan_id}/comments", dependencies=[Csrf])
def plan_comment(
    request: Request,
    plan_id: str,
    who: Who,
    acc: Acc,
    db: Db,
    body: Annotated[str, Form(min_length=1, max_length=5000)],
    territory_id: Annotated[str, Form(max_length=64)] = "",
):
    plan = acc.plan_page(plan_id)
    _add_comment(request, db, acc, who[0], plan, body, territory_id)
    return RedirectResponse(f"/plans/{plan.id}", status_code=303)


def _add_comment(
    request: Request,
    db: Session,
    acc: Access,
    user: User,
    plan: PlanVersion,
    body: str,
    territory_id: str,
) -> None:
    from territory_engine.studio.models import Comment, utcnow

    body = body.strip()
    if not body:
        raise StarletteHTTPException(400, "a comment needs some text")
    if territory_id:
        acc.check_territory(acc.load(plan), territory_id)
    db.add(
        Comment(
            plan_version_id=plan.id,
            territory_id=territory_id or None,
            user_id=user.id,
            username=user.username,
            body=body,
            created_at=utcnow(),
        )
    )
    target = f"plan {plan.id}" + (f" territory {territory_id}" if territory_id else "")
    audit.record(db, user.username, "comment", target=target, detail=body, client=_client(request))
    db.commit()


@router.get("/me", response_class=HTMLResponse)
def my_page(request: Request, who: Who, acc: Acc):
    user = who[0]
    if user.role != "rep":
        return RedirectResponse("/plans", status_code=303)
    plan = acc.published_plan()
    if plan is not None:
        try:
            acc.rep_page(plan.id, str(user.rep_id))
        except NotFound:
            plan = None  # published, but without a territory for this rep
    if plan is None:
        return render(request, "rep_none.html", _base(who))
    return RedirectResponse(f"/plans/{plan.id}/reps/{user.rep_id}", status_code=303)


def _rep_context(page: RepPage) -> dict[str, Any]:
    rep = page.rows.rep.iloc[0].to_dict() if not page.rows.rep.empty else {}
    quota = None
    if not page.rows.quotas.empty and "quota" in page.rows.quotas:
        quota = float(page.rows.quotas["quota"].astype(float).sum())
    return {
        "plan": page.plan,
        "rep": rep,
        "quota": quota,
        "explanation": page.explanation,
        "standing": page.standing.to_dict("records"),
        "accounts": page.account_records,
        "account_columns": [
            c
            for c in ("account_id", "name", "segment", "industry", *page.measures)
            if c in page.rows.accounts
        ],
        "travel_unit": page.rows.travel_unit,
    }


@router.get("/plans/{plan_id}/reps/{rep_id}", response_class=HTMLResponse)
def rep_page(request: Request, plan_id: str, rep_id: str, who: Who, acc: Acc):
    page = acc.rep_page(plan_id, rep_id)
    return render(request, "rep.html", {**_base(who), **_rep_context(page)})


@router.get("/plans/{plan_id}/reps/{rep_id}/territory.geojson")
def rep_geojson(plan_id: str, rep_id: str, acc: Acc):
    page = acc.rep_page(plan_id, rep_id)
    return JSONResponse(acc.rep_geojson(page), media_type="application/geo+json")


@router.get("/plans/{plan_id}/reps/{rep_id}/accounts.csv")
def rep_accounts(request: Request, plan_id: str, rep_id: str, acc: Acc, db: Db, who: Who):
    page = acc.rep_page(plan_id, rep_id)
    frame = acc.rep_accounts(page)
    what = f"plan {page.plan.id} rep {rep_id} accounts.csv"
    filename = f"plan-{page.plan.id}-{rep_id}-accounts.csv"
    return _audited_csv(request, db, who, frame, what, filename, page.accounts_csv)


def _planner(who: tuple[User, UserSession]) -> None:
    if who[0].role != "planner":
        raise NotFound("audit")


def _action_filter(action: str | None) -> str | None:
    if action in (None, ""):
        return None
    if action not in audit.ACTIONS:
        raise StarletteHTTPException(400, "unknown action")
    return action


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, who: Who, db: Db, action: str | None = None):
    _planner(who)
    wanted = _action_filter(action)
    rows = [e for e in audit.entries(db, limit=500) if wanted is None or e.action == wanted]
    return render(request, "audit.html", {**_base(who), "entries": rows, "actions": audit.ACTIONS})


@router.get("/audit.csv")
def audit_download(request: Request, who: Who, db: Db):
    _planner(who)
    rows = audit.entries(db)
    text = audit.audit_csv(rows)
    audit.record(
        db,
        who[0].username,
        "export",
        target="audit.csv",
        detail=f"{len(rows)} rows",
        client=_client(request),
    )
    db.commit()
    return _csv(text, "audit.csv")


# ---------------------------------------------------------------- JSON API


def _plan_json(plan: PlanVersion, role: str) -> dict[str, Any]:
    return {
        "id": plan.id,
        "plan_id": plan.plan_id,
        "name": plan.name,
        "plan_year": plan.plan_year,
        "state": plan.state,
        "version": plan.version,
        "actions": allowed_actions(plan, role),
    }


@router.get("/api/me")
def api_me(who: Who, acc: Acc):
    user = who[0]
    published = acc.published_plan() if user.role == "rep" else None
    return {
        "username": user.username,
        "role": user.role,
        "rep_id": user.rep_id,
        "published_plan": published.id if published else None,
        "csrf_token": who[1].csrf_token,
    }


@router.get("/api/plans")
def api_plans(who: Who, acc: Acc, state: str | None = None):
    if who[0].role == "rep":
        raise NotFound("plans")
    wanted = _state_filter(state)
    return [_plan_json(p, who[0].role) for p in acc.plans() if wanted is None or p.state == wanted]


@router.get("/api/plans/{plan_id}")
def api_plan(plan_id: str, who: Who, acc: Acc):
    plan = acc.plan_page(plan_id)
    loaded = acc.load(plan)
    territories = acc.territories(loaded)
    return {
        **_plan_json(plan, who[0].role),
        "headline": dict(headline(loaded.folder.scorecard)),
        "violations": acc.violations(loaded),
        "territories": _records(territories),
        "comments": [
            {"user": c.username, "territory_id": c.territory_id, "body": c.body}
            for c in acc.comments(plan, loaded)
        ],
    }


@router.get("/api/plans/{plan_id}/territories.geojson")
def api_plan_geojson(plan_id: str, acc: Acc):
    return plan_geojson(plan_id, acc)


@router.post("/api/plans/{plan_id}/transition", dependencies=[Csrf])
async def api_transition(request: Request, plan_id: str, who: Who, acc: Acc, db: Db):
    body = await _json_body(request)
    action, version = body.get("action"), body.get("version")
    comment = body.get("comment") or ""
    if not isinstance(action, str) or not isinstance(version, int) or not isinstance(comment, str):
        raise StarletteHTTPException(400, "send {action: str, version: int, comment: str}")
    plan = acc.plan_page(plan_id)
    fresh = apply_transition(
        db, plan, action, who[0], seen_version=version, comment=comment, client=_client(request)
    )
    return _plan_json(fresh, who[0].role)


@router.post("/api/plans/{plan_id}/comments", dependencies=[Csrf])
async def api_comment(request: Request, plan_id: str, who: Who, acc: Acc, db: Db):
    body = await _json_body(request)
    text, territory = body.get("body"), body.get("territory_id") or ""
    if not isinstance(text, str) or not isinstance(territory, str) or len(text) > 5000:
        raise StarletteHTTPException(400, "send {body: str, territory_id: str}")
    plan = acc.plan_page(plan_id)
    _add_comment(request, db, acc, who[0], plan, text, territory)
    return {"ok": True}


@router.post("/api/plans/{plan_id}/edit", dependencies=[Csrf])
def api_edit(
    request: Request,
    plan_id: str,
    who: Who,
    acc: Acc,
    db: Db,
    payload: Annotated[dict[str, Any], Body()],
):
    plan = acc.plan_page(plan_id)
    user = who[0]
    if user.role != "planner":
        raise _Forbidden("only a planner edits plans")
    moves = _moves(payload.get("moves"))
    save = payload.get("save") is True
    reason = payload.get("reason") or ""
    version = payload.get("version")
    if not isinstance(reason, str) or len(reason) > 2000:
        raise StarletteHTTPException(400, "reason: a text of at most 2,000 characters")
    if save and (not isinstance(version, int) or not reason.strip()):
        raise StarletteHTTPException(400, "saving needs the version you edited and a reason")
    loaded = acc.load(plan)
    workdir = request.app.state.catalogue.store_path.resolve().parent / EDITS_FOLDER
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        edit = request.app.state.previews.rescore(loaded.folder, moves, workdir)
    except TerritoryEngineError as exc:
        raise StarletteHTTPException(400, str(exc)) from None
    saved = None
    if save and isinstance(version, int):
        saved = _save_edit(request, db, plan, user, edit, version, reason.strip(), moves)
    else:
        shutil.rmtree(edit.folder, ignore_errors=True)
    return edit_json(edit, saved)


def edit_json(edit: EditResult, saved: dict[str, Any] | None) -> dict[str, Any]:
    """An edit's answer: accounts moved, headline, territories against their bands, broken rules."""
    card = edit.card
    keep = ("territory_id", "rep_id", "n_accounts", "potential")
    return {
        "moved_accounts": edit.moved_accounts,
        "headline": dict(headline(card)),
        "territories": [
            {k: v for k, v in t.items() if k in keep or k.endswith(("_dev_pct", "_in_band"))}
            for t in card.get("territories", [])
        ],
        "broken": edit.broken,
        "saved": saved,
    }


def _save_edit(
    request: Request,
    db: Session,
    plan: PlanVersion,
    user: User,
    edit: EditResult,
    seen: int,
    reason: str,
    moves: list[Move],
) -> dict[str, Any]:
    """Store an edit as a new draft version, if ``plan`` is still at version ``seen``.

    The conditional bump of the parent's version is the optimistic lock: of two saves
    of one version, the second finds the version moved on and gets 409. The edited
    folder (seconds of copying and scoring) is written before that bump, outside the
    database's write transaction, so a save does not hold every other write (sign-ins,
    audited downloads) behind it; a version already moved on is refused before the
    folder is written.
    """

    def stale() -> StaleVersion:
        shutil.rmtree(edit.folder, ignore_errors=True)
        return StaleVersion("this plan changed since you opened it: reload the page")

    current = db.scalar(select(PlanVersion.version).where(PlanVersion.id == plan.id))
    db.rollback()  # end the read: the slow write below holds no transaction open
    if current != seen:
        raise stale()
    target = edit.folder.parent / f"{plan.plan_id}-{new_token()[:10]}"
    folder = save_folder(edit, target)
    now = utcnow()
    bumped = db.execute(
        update(PlanVersion)
        .where(PlanVersion.id == plan.id, PlanVersion.version == seen)
        .values(version=PlanVersion.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if bumped.rowcount != 1:  # type: ignore[attr-defined]
        db.rollback()
        shutil.rmtree(folder, ignore_errors=True)
        raise stale()
    try:
        child = record_version(
            db,
            request.app.state.catalogue.store_path,
            plan,
            folder,
            author=user.username,
            reason=reason,
            detail=f"{len(moves)} unit moves, {edit.moved_accounts} accounts: {reason}",
            client=_client(request),
        )
        db.commit()
    except BaseException:
        db.rollback()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return {"id": child.id, "plan_id": child.plan_id, "parent_id": plan.id}


@router.get("/api/plans/{plan_id}/reps/{rep_id}")
def api_rep(plan_id: str, rep_id: str, acc: Acc):
    page = acc.rep_page(plan_id, rep_id)
    context = _rep_context(page)
    return {
        "plan": page.plan.id,
        "rep": {k: _plain(v) for k, v in context["rep"].items()},
        "quota": context["quota"],
        "explanation": context["explanation"],
        "standing": _records(page.standing),
        "accounts": _records(acc.rep_accounts(page)),
    }


@router.get("/api/plans/{plan_id}/reps/{rep_id}/territory.geojson")
def api_rep_geojson(plan_id: str, rep_id: str, acc: Acc):
    return rep_geojson(plan_id, rep_id, acc)


# ---------------------------------------------------------------- compare


@router.get("/plans/{plan_id}/compare")
def compare_pick(plan_id: str, acc: Acc, b: str = ""):
    """The plan page's "compare with" form: on to the compare page of the version picked."""
    other = acc.plan_page(b)
    return RedirectResponse(f"/plans/{acc.plan_page(plan_id).id}/compare/{other.id}", 303)


def _compare_json(page: ComparePage) -> dict[str, Any]:
    moves = page.moves
    reps = set(moves["from_rep_id"]) | set(moves["to_rep_id"])
    return {
        "a": page.a.id,
        "b": page.b.id,
        "measures": page.measures,
        "summary": {
            "moved_accounts": len(moves),
            "moved_potential": float(moves["potential"].sum()) if len(moves) else 0.0,
            "reps_affected": len(reps - {""}),
        },
        "fairness": [
            {
                "section": f.section,
                "key": f.key,
                "a": f.a,
                "b": f.b,
                "delta": f.delta,
                "better": f.better,
            }
            for f in page.fairness
        ],
        "rep_deltas": _records(page.deltas),
        "moves": _records(moves),
    }


@router.get("/plans/{plan_id}/compare/{other_id}", response_class=HTMLResponse)
def compare_page(request: Request, plan_id: str, other_id: str, who: Who, acc: Acc):
    page = acc.compare(plan_id, other_id)
    data = _compare_json(page)
    delta_columns = [
        c
        for c in ("n_accounts", *page.measures, "quota", "travel_mean_km")
        if f"{c}_delta" in page.deltas
    ]
    return render(
        request,
        "compare.html",
        {
            **_base(who),
            "a": page.a,
            "b": page.b,
            "summary": data["summary"],
            "fairness": page.fairness,
            "deltas": data["rep_deltas"],
            "delta_columns": delta_columns,
            "moves": data["moves"][:500],
            "n_moves": len(page.moves),
        },
    )


@router.get("/api/plans/{plan_id}/compare/{other_id}")
def api_compare(plan_id: str, other_id: str, acc: Acc):
    return _compare_json(acc.compare(plan_id, other_id))


@router.get("/api/plans/{plan_id}/compare/{other_id}/moves.geojson")
def api_compare_moves(plan_id: str, other_id: str, acc: Acc):
    page = acc.compare(plan_id, other_id)
    return JSONResponse(page.moves_geojson(), media_type="application/geo+json")


def _moves(value: Any) -> list[Move]:
    """The ``moves`` of an edit request: a list of ``{unit_id, to_territory_id}``."""
    if not isinstance(value, list) or not value or len(value) > MAX_MOVES:
        raise StarletteHTTPException(
            400, f"moves: a list of 1 to {MAX_MOVES:,} {{unit_id, to_territory_id}}"
        )
    moves = []
    for item in value:
        unit = item.get("unit_id") if isinstance(item, dict) else None
        to = item.get("to_territory_id") if isinstance(item, dict) else None
        if not isinstance(unit, str) or not isinstance(to, str) or len(unit) > 64 or len(to) > 64:
            raise StarletteHTTPException(400, "each move is {unit_id: str, to_territory_id: str}")
        moves.append(Move(unit, to))
    return moves


async def _json_body(request: Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise StarletteHTTPException(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise StarletteHTTPException(400, "the body must be a JSON object")
    return body


def _number(value: Any) -> str:
    """A figure for a table: whole numbers without decimals, others with two."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number != number:
        return ""
    return f"{number:,.0f}" if number.is_integer() or abs(number) >= 1000 else f"{number:,.2f}"


def _plain(value: Any) -> Any:
    """A pandas/numpy cell as a JSON value (NaN as null)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _records(frame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _csv(text: str, filename: str) -> Response:
    return PlainTextResponse(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )

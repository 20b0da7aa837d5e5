"""A real ``territory-engine serve`` process and a headless Chromium driving it.

Shared by the studio's browser tests: import the fixtures into a test module with
``from tests.studio.live import browser, live_studio  # noqa: F401``.

``live_studio`` starts the served studio on a free port of 127.0.0.1 over
:func:`~tests.studio.conftest.studio_plan`'s store, with a fresh database holding the
users of :data:`~tests.studio.conftest.USERS` (one per test module), and stops it
afterwards. ``browser`` is Debian's Chromium under Playwright (``executable_path``, no
browser download); a module using it skips, saying why, where either is missing.
:func:`new_page` opens a page that records JavaScript errors and requests, and
:func:`sign_in` signs a page in through the form as a person would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.chromium import CHROMIUM, FLAGS
from tests.studio.conftest import PASSWORD, USERS

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def free_port() -> int:
    """A free TCP port of 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveStudio:
    """A running studio process: its base URL, database URL and the process."""

    base: str
    db: str
    process: subprocess.Popen

    def output(self) -> str:
        """What the server printed so far (only once it has stopped)."""
        if self.process.poll() is None or self.process.stdout is None:
            return ""
        return self.process.stdout.read().decode(errors="replace")


def serve(db: str, store: Path, *extra: str, timeout: float = 60.0) -> LiveStudio:
    """Start ``territory-engine serve`` on ``db`` and ``store`` (a free port of 127.0.0.1,
    in a process group of its own) and wait until it answers; fail with its output
    if it does not."""
    port = free_port()
    exe = Path(sys.executable).with_name("territory-engine")
    command = [str(exe), "serve", "--db", db, "--store", str(store), "--host", "127.0.0.1"]
    process = subprocess.Popen(
        [*command, "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "TERRITORY_ENGINE_DEBUG": "1"},
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(f"{base}/login", timeout=2)
            return LiveStudio(base=base, db=db, process=process)
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"serve did not start: {output}")
            time.sleep(0.3)


def start_studio(plan: Path, db_dir: Path, *, timeout: float = 60.0) -> LiveStudio:
    """Seed :data:`USERS` into a fresh database in ``db_dir`` and serve ``plan``'s store."""
    from territory_engine.studio.db import open_database
    from territory_engine.studio.users import add_user

    db = f"sqlite:///{db_dir / 'studio.sqlite'}"
    with open_database(db)() as session:
        for name, (role, rep_id, scope) in USERS.items():
            add_user(session, name, role, PASSWORD, rep_id=rep_id, scope=scope)
    return serve(db, plan.parent / "plans.sqlite", timeout=timeout)


def start_studio_on_copy(plan: Path, tmp_path_factory, name: str) -> tuple[LiveStudio, Path]:
    """Serve a copy of ``plan`` recorded in a store of its own (versions saved in the
    studio land beside the copy, not in the store other studio tests share).

    Returns
    -------
    (LiveStudio, Path)
        The running studio and the copied plan folder.
    """
    from territory_engine.store import PlanStore
    from tests.studio.conftest import copy_plan

    folder = copy_plan(plan, tmp_path_factory.mktemp(name) / "out" / "plan")
    PlanStore(folder.parent / "plans.sqlite").record_folder(folder)
    return start_studio(folder, tmp_path_factory.mktemp(f"{name}-db")), folder


def stop_studio(studio: LiveStudio) -> None:
    """Stop the server and its workers (SIGINT to its group, SIGKILL after 30 s)."""
    os.killpg(studio.process.pid, signal.SIGINT)
    try:
        studio.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(studio.process.pid, signal.SIGKILL)
        studio.process.wait(timeout=10)


@pytest.fixture(scope="module")
def live_studio(studio_plan, tmp_path_factory) -> Iterator[LiveStudio]:
    """The served studio over the test plan's store, with its own database per module."""
    studio = start_studio(studio_plan, tmp_path_factory.mktemp("live-db"))
    yield studio
    stop_studio(studio)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A headless Chromium (Playwright); skips the module where none is installed."""
    if CHROMIUM is None:
        pytest.skip("no Chromium on PATH (Debian: apt-get install chromium); browser tests skipped")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
    )
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield launched
        launched.close()


@dataclass
class Tab:
    """A page of its own browser context (its own cookies), with what it logged."""

    page: object
    context: object
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def external_requests(self, base: str) -> list[str]:
        """Requests that left the studio (there must be none: the studio works offline)."""
        return [u for u in self.requests if not u.startswith((base, "data:", "blob:"))]

    def close(self) -> None:
        self.context.close()


def new_page(browser) -> Tab:
    """A fresh context (no cookies) and page recording page errors, console errors
    and every request URL."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    tab = Tab(page=page, context=context)
    page.on("pageerror", lambda exc: tab.errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: tab.errors.append(f"console: {msg.text}") if msg.type == "error" else None,
    )
    page.on("request", lambda req: tab.requests.append(req.url))
    return tab


def sign_in(tab: Tab, base: str, username: str, password: str = PASSWORD) -> None:
    """Fill and send the sign-in form; waits for the page it leads to."""
    page = tab.page
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


def screenshot(tab: Tab, name: str) -> Path:
    """Save a screenshot to ``tests/artifacts/`` (git-ignored) for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    tab.page.screenshot(path=str(path))
    return path

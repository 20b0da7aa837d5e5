"""The pages in a real headless Chromium: no JavaScript error, no request, expected content.

Drives Debian's ``chromium`` with Playwright (``executable_path``; no browser is
downloaded). Screenshots go to ``tests/artifacts/`` (git-ignored) for a person to
look at. Skips, saying why, where no Chromium or no Playwright is installed;
``.ci/run`` installs Chromium so that CI runs these tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from territory_engine.cli.main import app
from tests.chromium import CHROMIUM, FLAGS
from tests.plan.test_views import runner, sample_plans

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

if CHROMIUM is None:
    pytest.skip(
        "no Chromium on PATH (Debian: apt-get install chromium); browser tests skipped",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
)


@dataclass
class Visit:
    """A page opened in the browser, with what it logged and requested."""

    page: object
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def external_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(("file:", "data:"))]


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1400, "height": 900},
        )
        yield ctx
        ctx.close()


@pytest.fixture(scope="module")
def pages(plan_dir, tmp_path_factory) -> dict[str, Path]:
    plan_a, plan_b, _ = sample_plans(plan_dir, tmp_path_factory)
    out = tmp_path_factory.mktemp("browser-pages")
    result = runner.invoke(app, ["compare", str(plan_a), str(plan_b), "-o", str(out / "cmp")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["rep", str(plan_a), "--rep", "R07", "-o", str(out / "reps")])
    assert result.exit_code == 0, result.output
    return {
        "map": plan_a / "map.html",
        "report": plan_a / "report.html",
        "compare": out / "cmp" / "compare.html",
        "rep": out / "reps" / "rep_R07.html",
        "plan_a": plan_a,
    }


def visit(context, path: Path) -> Visit:
    page = context.new_page()
    seen = Visit(page)
    page.on("pageerror", lambda exc: seen.errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: seen.errors.append(f"console: {msg.text}") if msg.type == "error" else None,
    )
    page.on("request", lambda req: seen.requests.append(req.url))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_timeout(500)
    return seen


def shot(seen: Visit, name: str, **kwargs) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    seen.page.screenshot(path=str(path), **kwargs)
    assert path.stat().st_size > 10_000  # a blank page compresses far below this
    return path


def overlay_names(seen: Visit, index: int = 0) -> list[str]:
    return seen.page.eval_on_selector_all(
        ".leaflet-control-layers-overlays label",
        "els => els.map(e => e.textContent.trim())",
    )


def test_plan_map_loads_offline_with_its_layers_and_controls(context, pages):
    seen = visit(context, pages["map"])
    page = seen.page
    assert seen.errors == []
    assert seen.external_requests() == []
    names = overlay_names(seen)
    for segment in ("commercial", "enterprise", "smb"):
        assert f"{segment} · territories" in names
        assert any(n.startswith(f"{segment} · accounts (") for n in names)
    territories = pd.read_csv(pages["plan_a"] / "territories.csv")
    shown = int((territories["segment"] == "commercial").sum())
    assert page.locator(".leaflet-overlay-pane path.leaflet-interactive").count() == shown
    assert page.locator(".te-legend").is_visible()
    assert page.locator(".leaflet-control-search input").is_visible()
    assert page.locator(".leaflet-control-zoom-fullscreen").count() == 1
    # Switch the smb accounts on: clusters appear, ringed where accounts moved.
    page.get_by_text("smb · accounts", exact=False).click()
    page.wait_for_timeout(800)
    assert page.locator(".te-cluster").count() > 0
    assert page.locator(".te-cluster-moved").count() > 0
    # Search a rep by name: the box lists them.
    page.locator(".leaflet-control-search input").press_sequentially("Karen", delay=30)
    page.wait_for_timeout(400)
    assert page.locator(".search-tip").count() >= 1
    shot(seen, "plan_map")
    assert seen.errors == []
    assert seen.external_requests() == []
    page.close()


def test_report_draws_its_charts(context, pages):
    seen = visit(context, pages["report"])
    assert seen.errors == []
    assert seen.external_requests() == []
    svgs = seen.page.locator("svg.te-chart")
    assert svgs.count() >= 5
    box = svgs.first.bounding_box()
    assert box["width"] > 300 and box["height"] > 200
    # Sorting the territory table by accounts puts the smallest first.
    table = seen.page.locator("#territories")
    table.locator("th", has_text="accounts").first.click()
    values = table.locator("tbody tr td:nth-child(4)").all_inner_texts()
    numbers = [int(v.replace(",", "")) for v in values]
    assert numbers == sorted(numbers)
    shot(seen, "report", full_page=True)
    seen.page.close()


def test_compare_page_syncs_its_two_maps(context, pages, plan_dir, tmp_path_factory):
    _, _, expected = sample_plans(plan_dir, tmp_path_factory)
    seen = visit(context, pages["compare"])
    page = seen.page
    assert seen.errors == []
    assert seen.external_requests() == []
    assert page.locator(".folium-map.leaflet-container").count() == 2
    assert page.locator("#moves tbody tr").count() == len(expected)
    assert page.locator("#fairness tbody tr").count() > 10
    assert page.locator("#rep-deltas tbody tr").count() == 45
    # Moving map A moves map B to the same view.
    page.evaluate("void teCompare.maps[0].setView([35.0, -84.0], 9, {animate: false})")
    centre = page.evaluate(
        "(() => { var c = teCompare.maps[1].getCenter();"
        " return [c.lat, c.lng, teCompare.maps[1].getZoom()]; })()"
    )
    assert centre == pytest.approx([35.0, -84.0, 9], abs=1e-6)
    # Switching an overlay on in A switches it on in B.
    first_map = page.locator(".folium-map").nth(0)
    second_map = page.locator(".folium-map").nth(1)
    overlay = "label:has-text('enterprise · territories') input"
    box = second_map.locator(overlay)
    assert not box.is_checked()
    first_map.locator(overlay).check()
    page.wait_for_timeout(300)
    assert box.is_checked()
    page.evaluate("void teCompare.maps[0].setView([35.5, -84.5], 7, {animate: false})")
    page.wait_for_timeout(300)
    shot(seen, "compare")
    assert seen.errors == []
    page.close()


def test_rep_view_shows_only_the_rep_and_sorts_accounts(context, pages):
    seen = visit(context, pages["rep"])
    page = seen.page
    assert seen.errors == []
    assert seen.external_requests() == []
    view = pd.read_csv(pages["plan_a"] / "assignments.csv", dtype=str)
    n_mine = int((view["rep_id"] == "R07").sum())
    assert page.locator("#accounts tbody tr").count() == n_mine
    assert page.locator(".leaflet-overlay-pane path.leaflet-interactive").count() == 1
    assert page.locator(".te-legend li").count() >= 1
    header = page.locator("#accounts th", has_text="potential")
    header.click()
    ascending = [
        float(v)
        for v in page.eval_on_selector_all(
            "#accounts tbody tr td:nth-child(4)", "els => els.map(e => e.dataset.v)"
        )
    ]
    assert ascending == sorted(ascending)
    header.click()
    descending = [
        float(v)
        for v in page.eval_on_selector_all(
            "#accounts tbody tr td:nth-child(4)", "els => els.map(e => e.dataset.v)"
        )
    ]
    assert descending == sorted(descending, reverse=True)
    shot(seen, "rep_view")
    page.close()

"""The planner's map editor in a real browser: click a unit, move it, undo, redo, save."""

from __future__ import annotations

import geopandas as gpd
import pytest

from tests.studio.live import (  # noqa: F401
    browser,
    live_studio,
    new_page,
    screenshot,
    sign_in,
    start_studio_on_copy,
    stop_studio,
)
from tests.studio.test_editor import COUNTIES, neighbour_move

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def editor_studio(studio_plan, tmp_path_factory):
    """The served studio over a copy of the test plan with a store of its own: the saved
    versions land beside the copy, not in the store the other studio tests share."""
    studio, folder = start_studio_on_copy(studio_plan, tmp_path_factory, "browser-editor")
    yield studio, folder
    stop_studio(studio)


def test_a_planner_moves_a_unit_sees_the_band_change_undoes_redoes_and_saves(
    editor_studio,
    browser,  # noqa: F811
):
    from playwright.sync_api import expect

    studio, folder = editor_studio
    unit, was, to = neighbour_move(folder)
    tab = new_page(browser)
    page = tab.page
    try:
        sign_in(tab, studio.base, "planner")
        page.goto(f"{studio.base}/plans/1")
        with page.expect_navigation():
            page.click('a[href="/plans/1/edit"]')
        page.select_option("#segment", "smb")
        expect(page.locator("#editor")).to_have_attribute("data-units-loaded", "smb", timeout=30000)
        expect(page.locator("#editor")).to_have_attribute("data-scored", "0", timeout=30000)
        # the SMB layer is drawn (not the first segment's, loaded first): one shape per unit,
        # in as many colours as the palette has for its 24 territories
        shapes = page.locator("path[data-unit]")
        assert shapes.count() == len(gpd.read_file(COUNTIES, layer="counties"))
        fills = shapes.evaluate_all("els => new Set(els.map(e => e.getAttribute('fill'))).size")
        assert fills >= 15
        target_cell = page.locator(f'#scorecard tr[data-territory="{to}"] td[data-k="potential"]')
        source_cell = page.locator(f'#scorecard tr[data-territory="{was}"] td[data-k="potential"]')
        expect(target_cell).not_to_have_text("", timeout=10000)
        original, original_source = target_cell.text_content(), source_cell.text_content()

        # select the unit by clicking its shape on the map
        page.locator(f'path[data-unit="{unit}"]').dispatch_event("click")
        expect(page.locator("#selected-count")).to_have_text("1 unit selected")
        # the target is picked by clicking its row of the scorecard
        page.click(f'#scorecard tr[data-territory="{to}"] td[data-k="territory_id"]')
        assert page.locator("#target").input_value() == to
        page.click("#move")
        expect(target_cell).not_to_have_text(original, timeout=5000)
        expect(source_cell).not_to_have_text(original_source, timeout=5000)
        moved = target_cell.text_content()
        expect(page.locator(f'#scorecard tr[data-territory="{to}"]')).to_have_class("changed")
        assert page.locator("#broken li").count() >= 1  # the rules in words (or "None: ...")
        assert "accounts moved" in page.locator("#status").text_content()
        screenshot(tab, "editor-moved")

        page.click("#undo")
        expect(target_cell).to_have_text(original, timeout=5000)
        expect(source_cell).to_have_text(original_source, timeout=5000)
        page.click("#redo")
        expect(target_cell).to_have_text(moved, timeout=5000)

        page.fill("#reason", "give the border county to its neighbour")
        page.click("#save-button")
        saved = page.locator("#save-message a").first
        expect(saved).to_have_text("plan #2", timeout=30000)
        assert saved.get_attribute("href") == "/plans/2"
        with page.expect_navigation():
            saved.click()
        expect(page.locator("h1")).to_contain_text("draft")
        assert tab.errors == []
        assert tab.external_requests(studio.base) == []
    finally:
        tab.close()


def test_a_lasso_selects_the_units_it_surrounds(editor_studio, browser):  # noqa: F811
    from playwright.sync_api import expect

    studio, folder = editor_studio
    unit, _, _ = neighbour_move(folder)
    tab = new_page(browser)
    page = tab.page
    try:
        sign_in(tab, studio.base, "planner")
        page.goto(f"{studio.base}/plans/1/edit")
        page.select_option("#segment", "smb")
        expect(page.locator("#editor")).to_have_attribute("data-units-loaded", "smb", timeout=30000)
        shape = page.locator(f'path[data-unit="{unit}"]')
        box = shape.bounding_box()
        assert box is not None
        # draw a ring a little outside the unit's bounding box
        left, top = box["x"] - 3, box["y"] - 3
        right, bottom = box["x"] + box["width"] + 3, box["y"] + box["height"] + 3
        page.click("#lasso")
        page.mouse.move(left, top)
        page.mouse.down()
        for x, y in ((right, top), (right, bottom), (left, bottom), (left, top + 1)):
            page.mouse.move(x, y, steps=4)
        page.mouse.up()
        expect(page.locator("#selected-count")).not_to_have_text("0 units selected")
        assert shape.get_attribute("stroke") == "#000"  # drawn as selected
        assert page.locator("#lasso").get_attribute("aria-pressed") == "false"
        page.click("#clear")
        expect(page.locator("#selected-count")).to_have_text("0 units selected")
        # and by list: known ids selected, an unknown one named
        page.fill("#unit-list", f"{unit}, nope-1")
        page.click("#by-list button[type=submit]")
        expect(page.locator("#selected-count")).to_have_text("1 unit selected")
        expect(page.locator("#list-message")).to_contain_text("nope-1")
        # or by name: every unit of that name
        page.click("#clear")
        counties = gpd.read_file(COUNTIES, layer="counties")
        name = counties.loc[counties["unit_id"].astype(str) == unit, "name"].iloc[0]
        same = int((counties["name"] == name).sum())
        page.fill("#unit-list", name.upper())
        page.click("#by-list button[type=submit]")
        expect(page.locator("#selected-count")).to_have_text(
            f"{same} unit selected" if same == 1 else f"{same} units selected"
        )
        assert tab.errors == []
    finally:
        tab.close()


@pytest.mark.slow
def test_reoptimise_shows_its_progress_and_links_the_new_version(editor_studio, browser):  # noqa: F811
    from playwright.sync_api import expect

    studio, folder = editor_studio
    unit, _, to = neighbour_move(folder)
    tab = new_page(browser)
    page = tab.page
    try:
        sign_in(tab, studio.base, "planner")
        page.goto(f"{studio.base}/plans/1/edit")
        page.select_option("#segment", "smb")
        expect(page.locator("#editor")).to_have_attribute("data-units-loaded", "smb", timeout=30000)
        page.fill("#unit-list", unit)
        page.click("#by-list button[type=submit]")
        page.select_option("#target", to)
        page.click("#move")
        expect(page.locator("#reoptimise")).to_be_enabled(timeout=5000)
        page.click("#reoptimise")
        expect(page.locator("#job-message")).to_contain_text("Re-optimised", timeout=240000)
        link = page.locator("#job-message a")
        assert link.get_attribute("href").startswith("/plans/")
        assert tab.errors == []
    finally:
        tab.close()

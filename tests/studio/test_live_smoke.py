"""Smoke test of the live fixtures: a planner signs in through the form in Chromium."""

from __future__ import annotations

import pytest

from tests.studio.live import browser, live_studio, new_page, sign_in  # noqa: F401

pytestmark = pytest.mark.browser


def test_a_planner_signs_in_and_sees_the_plan_list(live_studio, browser):  # noqa: F811
    tab = new_page(browser)
    try:
        sign_in(tab, live_studio.base, "planner")
        assert "/login" not in tab.page.url
        assert tab.page.locator('table.data a[href^="/plans/"]').count() > 0
        assert tab.errors == []
        assert tab.external_requests(live_studio.base) == []
    finally:
        tab.close()

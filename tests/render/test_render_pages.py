"""Report, charts, page helpers and the comparison helpers, on small hand-made tables."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from territory_engine.plan.compare import rep_deltas, team_standing
from territory_engine.render.charts import BandRow, band_chart, histogram_chart, scatter_chart
from territory_engine.render.page import Cell, compose_page, fmt_money, fmt_pct, table_html
from territory_engine.render.plan_map import simplify_outlines
from territory_engine.render.report import render_report, scorecard_rows


def territories() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "territory_id": ["T1", "T2", "T3"],
            "rep_id": ["R1", "R2", "R3"],
            "rep_name": ["Ann", "Bo", "Cy"],
            "segment": ["smb", "smb", "ent"],
            "n_accounts": [10, 12, 3],
            "potential": [105.0, 90.0, 300.0],
            "potential_fair_share": [100.0, 100.0, 300.0],
            "potential_low": [95.0, 95.0, 285.0],
            "potential_high": [105.0, 105.0, 315.0],
            "potential_dev_pct": [5.0, -10.0, 0.0],
            "potential_in_band": [True, False, True],
            "travel_mean_km": [20.0, 40.0, 90.0],
            "travel_max_km": [60.0, 80.0, 200.0],
        }
    )


def quotas() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "territory_id": ["T1", "T2", "T3"],
            "rep_id": ["R1", "R2", "R3"],
            "quota": [40.0, 36.0, 120.0],
            "territory_potential": [105.0, 90.0, 300.0],
            "quota_to_potential": [0.381, 0.4, 0.4],
        }
    )


CARD = {
    "n_territories": 3,
    "n_accounts": 25,
    "balance": {"potential": {"cv": 0.05, "max_rel_dev": 0.1, "balance_index": 93.3}},
    "travel": {"mean_km": 50.0},
    "disruption": {"moved_accounts_share": 0.25},
    "quota": {"total": 196.0, "quota_to_potential_mean": 0.394},
    "territories": [{"territory_id": "T1"}],
}


# --------------------------------------------------------------------------- report


def test_report_draws_one_dot_per_territory_coloured_by_band():
    page = render_report(CARD, territories(), quotas(), measures=["potential"], title="P")
    chart = page[page.index("potential: load vs fair share") :]
    chart = chart[: chart.index("</svg>")]
    assert chart.count("<circle") == 3
    assert chart.count('fill="#b00020"') == 1  # Bo is out of band
    assert "Bo (T2): −10.0 % vs fair share" in chart
    assert "<script src" not in page and "<link" not in page


def test_report_scorecard_table_formats_shares_and_money():
    rows = {(s, n): text for s, n, _, text in scorecard_rows(CARD)}
    assert rows[("balance · potential", "max rel dev")] == "10.0 %"
    assert rows[("disruption", "moved accounts share")] == "25.0 %"
    assert rows[("quota", "total")] == "$196"
    assert rows[("travel", "mean km")] == "50.0 km"
    assert not any(s == "territories" for s, _ in rows)


def test_report_says_when_the_scorecard_has_no_attainment():
    page = render_report(CARD, territories(), quotas(), measures=["potential"], title="P")
    assert "has no expected attainment" in page


def test_report_draws_attainment_when_the_scorecard_has_it():
    card = {**CARD, "quota": dict(CARD["quota"])}
    card["quota"]["attainment"] = {
        "share_at_or_above_100": 0.7,
        "healthy_band": [0.55, 0.65],
        "in_healthy_band": False,
        "by_territory": {
            t: {"expected_attainment": v}
            for t, v in zip(["T1", "T2", "T3"], [0.9, 1.05, 1.2], strict=True)
        },
    }
    card["territories"] = [{"territory_id": t} for t in ("T1", "T2", "T3")]
    page = render_report(card, territories(), quotas(), measures=["potential"], title="P")
    section = page[page.index("<h2>Expected attainment") : page.index("<h2>Travel")]
    chart = section[: section.index("</svg>")]
    counts = [int(c) for c in re.findall(r"<title>[^<]*: (\d+)</title>", chart)]
    assert sum(counts) == 3
    assert 'class="te-flag">70.0 %' in section  # outside the healthy band, flagged
    # The per-territory breakdown is drawn, not listed in the scorecard table.
    assert "by territory" not in page


def test_quota_chart_has_a_point_per_territory_and_the_mean_ratio_line():
    page = render_report(CARD, territories(), quotas(), measures=["potential"], title="P")
    chart = page[page.index("Quota vs territory potential") :]
    chart = chart[: chart.index("</svg>")]
    assert chart.count("<circle") == 3
    assert "mean quota ÷ potential = 0.394" in chart


# --------------------------------------------------------------------------- charts


def test_histogram_counts_every_value_once():
    svg = histogram_chart([1, 2, 2, 3, 9], title="h", x_label="x", bins=[0, 5, 10])
    counts = [int(c) for c in re.findall(r"<title>[^<]*: (\d+)</title>", svg)]
    assert counts == [4, 1]


def test_charts_survive_empty_and_constant_input():
    assert "<svg" in histogram_chart([], title="h", x_label="x")
    assert "<svg" in histogram_chart([5, 5, 5], title="h", x_label="x")
    # Equal up to float noise (cv 0 with proportional quotas): numpy refuses 12 bins.
    noisy = histogram_chart([1.0, 1.0 + 1e-16, 1.0 + 2e-16], title="h", x_label="x")
    assert re.findall(r"<title>[^<]*: (\d+)</title>", noisy) == ["3"]
    assert "<svg" in scatter_chart([], title="s", x_label="x", y_label="y")
    assert "<svg" in band_chart([BandRow("a", float("nan"), None, None, None)], title="b")


def test_chart_text_is_escaped():
    svg = band_chart([BandRow("<b>x</b>", 1.0, -5.0, 5.0, True)], title="t & u")
    assert "<b>x</b>" not in svg and "&lt;b&gt;" in svg and "t &amp; u" in svg


# --------------------------------------------------------------------------- page


def test_table_cells_sort_by_their_raw_values():
    html = table_html([("n", True)], [[Cell.number(1234.5)], [Cell.number(None)]], sortable=True)
    assert 'data-v="1234.5"' in html and "te-sortable" in html
    assert "1,234" in html and "–" in html


def test_formats():
    assert fmt_money(-1234.4) == "−$1,234"
    assert fmt_pct(-3.25, signed=True) == "−3.2 %"
    assert fmt_pct(None) == "–"


def test_a_page_without_maps_carries_no_leaflet():
    page = compose_page("<t>", ["<p>x</p>"])
    assert "<title>&lt;t&gt;</title>" in page
    assert "Leaflet" not in page
    assert "te-sortable" in page  # the sort script is always there


# --------------------------------------------------------------------------- simplification


def test_coverage_simplification_keeps_shared_borders_shared():
    # Two territories sharing a zig-zag border with many vertices.
    xs = np.linspace(0, 10, 201)
    border = [(x, 5 + 0.01 * np.sin(7 * x)) for x in xs]
    lower = shapely.Polygon([(0, 0), (10, 0), *border[::-1]])
    upper = shapely.Polygon([*border, (10, 10), (0, 10)])
    simple = simplify_outlines([lower, upper, None], 0.05)
    assert simple[2] is None
    before = shapely.get_num_coordinates([lower, upper]).sum()
    after = shapely.get_num_coordinates(list(simple[:2])).sum()
    assert after < before / 5
    # No gap and no overlap opened between them.
    assert shapely.intersection(simple[0], simple[1]).area == pytest.approx(0, abs=1e-12)
    assert shapely.union(simple[0], simple[1]).area == pytest.approx(100, rel=1e-9)


def test_simplification_zero_keeps_every_vertex():
    squares = [box(0, 0, 1, 1), box(1, 0, 2, 1)]
    assert list(simplify_outlines(squares, 0)) == squares


# --------------------------------------------------------------------------- compare helpers


def test_rep_deltas_subtract_plan_a_from_plan_b():
    a_t, a_q = territories(), quotas()
    b_t = a_t.assign(potential=[100.0, 95.0, 300.0], travel_mean_km=[25.0, 40.0, 90.0])
    b_q = a_q.assign(quota=[39.0, 37.0, 120.0])
    deltas = rep_deltas(a_t, b_t, a_q, b_q, ["potential"]).set_index("rep_id")
    assert deltas.loc["R1", "potential_delta"] == pytest.approx(-5.0)
    assert deltas.loc["R2", "potential_delta"] == pytest.approx(5.0)
    assert deltas.loc["R1", "quota_delta"] == pytest.approx(-1.0)
    assert deltas.loc["R1", "travel_mean_km_delta"] == pytest.approx(5.0)
    assert deltas.loc["R3", "potential_delta"] == 0


def test_rep_deltas_keep_a_rep_present_in_one_plan_only():
    a_t, a_q = territories(), quotas()
    b_t, b_q = a_t[a_t.rep_id != "R3"], a_q[a_q.rep_id != "R3"]
    deltas = rep_deltas(a_t, b_t, a_q, b_q, ["potential"]).set_index("rep_id")
    assert deltas.loc["R3", "potential_a"] == 300.0
    assert np.isnan(deltas.loc["R3", "potential_b"])
    assert np.isnan(deltas.loc["R3", "potential_delta"])


def test_team_standing_is_median_and_range_of_the_segment():
    standing = team_standing(territories(), quotas(), "R1", ["potential"]).set_index("figure")
    # R1 is in smb with R2 only: median 97.5, range 90-105; R3 (ent) is not counted.
    row = standing.loc["potential"]
    assert (row["rep"], row["median"], row["min"], row["max"]) == (105.0, 97.5, 90.0, 105.0)
    assert row["team_size"] == 2
    assert set(standing.columns) == {"rep", "median", "min", "max", "team_size"}


def test_team_standing_of_an_unknown_rep_raises():
    with pytest.raises(KeyError):
        team_standing(territories(), quotas(), "R9", ["potential"])

"""Untrusted names are inert in every page the engine writes, in a real Chromium.

A copy of the sample whose account names, rep names, a segment, a rep id (hence a
territory id) and the scenario's name carry HTML, ``<script>``, quotes, backticks,
``${...}``, ``</script>``, ``<!--``, U+2028/U+2029 and right-to-left marks is run
as a three-variant sweep (``--serial``; the third fails on a lock naming a payload,
so its error shows on the sweep page); then ``compare`` of the two plans and
``rep --all-reps``. Every page written (``sweep.html``, each plan's ``report.html``
and ``map.html``, ``compare.html``, the rep pages) is opened in headless Chromium:

- no payload ran: ``window.__pwned`` is unset and no dialog (``alert``) opened;
- no element was injected: nothing carries the payloads' class ``pwn``, also after
  every tooltip and popup of every map (cluster markers included) is rendered as
  Leaflet renders it (``innerHTML`` of its content);
- the page raised no script error (a name that broke out of a ``<script>`` JSON
  would be a syntax error), and the payloads did reach it, as text.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from territory_engine.cli.main import app
from tests.chromium import CHROMIUM

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
if CHROMIUM is None:
    pytest.skip(
        "no Chromium on PATH (Debian: apt-get install chromium); browser tests skipped",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]

# Each payload, if it ran, sets window.__pwned or calls alert; each element it could
# inject has the class "pwn". No commas: they stay one value in a CSV or a grid.
PAYLOADS = [
    '<script>window.__pwned="script"</script>',
    "<img src=x onerror=\"window.__pwned='img'\" class=pwn>",
    '"><b class=pwn id=pwn-attr>x</b>',
    "'><i class=pwn>y</i>",
    "';window.__pwned='sq';'",
    '";window.__pwned="dq";"',
    '`${window.__pwned="tpl"}`',
    '</script><script>window.__pwned="close"</script>',
    '<!--<script>window.__pwned="comment"</script>',
    "A\u2028B\u2029C <svg onload=alert(1) class=pwn></svg>",
    "\u202eevil\u200f <u class=pwn>rtl</u> {{7*7}}",
    "<a href=javascript:alert(2) class=pwn>link</a>",
]
SEGMENT = "commercial <b class=pwn>\"seg'`${1}`"
REP_ID = "R15<i class=pwn>'\"`${2}`"
SCENARIO_NAME = '<script>alert("name")</script> "FY" `${3}` \u202eplan'

# Two plans that differ (A000003 locked to two reps), and a variant whose error
# message quotes a payload.
LOCKS = (
    "constraints.locks=[{account: A000003, rep: R06}],[{account: A000003, rep: R01}],"
    "[{account: A000003, rep: <img src=x onerror=alert(9) class=pwn>}]"
)

runner = CliRunner()


def _untrusted_sample(tmp: Path) -> Path:
    """The sample with payloads in its names, and a scenario over it; returns the scenario."""
    data = tmp / "data"
    shutil.copytree(ROOT / "data", data)

    def read(name: str) -> pd.DataFrame:
        return pd.read_csv(data / name, dtype=str, keep_default_na=False)

    accounts, reps, edges = read("accounts.csv"), read("reps.csv"), read("social_edges.csv")
    every = accounts.index % 5 == 0
    accounts.loc[every, "name"] = [
        f"{name} {PAYLOADS[i % len(PAYLOADS)]}"
        for i, name in enumerate(accounts.loc[every, "name"])
    ]
    reps["name"] = [f"{n} {PAYLOADS[i % len(PAYLOADS)]}" for i, n in enumerate(reps["name"])]
    for frame in (accounts, reps):
        frame["segment"] = frame["segment"].replace("commercial", SEGMENT)
    reps["rep_id"] = reps["rep_id"].replace("R15", REP_ID)
    accounts["current_rep_id"] = accounts["current_rep_id"].replace("R15", REP_ID)
    for column in ("source", "target"):
        edges[column] = edges[column].replace("R15", REP_ID)
    written = {"accounts.csv": accounts, "reps.csv": reps, "social_edges.csv": edges}
    for name, frame in written.items():
        frame.to_csv(data / name, index=False)

    scenario = yaml.safe_load((ROOT / "scenarios" / "fy_baseline.yaml").read_text("utf-8"))
    scenario["name"] = SCENARIO_NAME
    # Keeping families solves the sample in about a second.
    scenario.setdefault("constraints", {})["keep_families"] = True
    scenario["output"]["folder"] = "../out/untrusted"
    (tmp / "scenarios").mkdir()
    path = tmp / "scenarios" / "untrusted.yaml"
    path.write_text(yaml.safe_dump(scenario, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("untrusted")
    scenario = _untrusted_sample(tmp)
    out = tmp / "out"
    result = runner.invoke(
        app,
        [
            "sweep",
            str(scenario),
            "--grid",
            LOCKS,
            "--serial",
            "--time-limit",
            "10",
            "--output",
            str(out / "sweep"),
            "--store",
            str(out / "plans.sqlite"),
        ],
    )
    # The third variant's lock names a rep that is a payload: an input error the
    # sweep page shows.
    assert result.exit_code == 2, result.output
    sweep = out / "sweep"
    plans = sorted(p for p in sweep.iterdir() if p.is_dir())
    assert len(plans) == 2
    result = runner.invoke(app, ["compare", str(plans[0]), str(plans[1]), "-o", str(out / "cmp")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["rep", str(plans[0]), "--all-reps", "-o", str(out / "reps")])
    assert result.exit_code == 0, result.output
    found = {
        "sweep": sweep / "sweep.html",
        "compare": out / "cmp" / "compare.html",
    }
    for plan in plans:
        found[f"{plan.name}/report"] = plan / "report.html"
        found[f"{plan.name}/map"] = plan / "map.html"
    rep_pages = sorted((out / "reps").glob("rep_*.html"))
    assert len(rep_pages) == 45
    # The rep whose id is a payload, and the reps of the segment whose name is one.
    reps = pd.read_csv(plans[0] / "reps.csv", dtype=str, keep_default_na=False)
    assert REP_ID in set(reps["rep_id"]) and SEGMENT in set(reps["segment"])
    # The payload rep's page, and three more (a page per rep takes the same path).
    mine = [p for p in rep_pages if "R15" in p.name]
    assert len(mine) == 1
    for path in [*mine, *rep_pages[:3]]:
        found[f"reps/{path.name}"] = path
    return found


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-untrusted")
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS
        )
        yield ctx
        ctx.close()


# Renders every tooltip and popup of every Leaflet map as Leaflet does (innerHTML of
# its content; a function is called with its layer), into a detached element, and
# counts the injected elements. Recurses into groups (GeoJSON, clusters).
RENDER_ALL = """() => {
  const maps = Object.values(window).filter(v => typeof L !== 'undefined' && v instanceof L.Map);
  let rendered = 0, injected = 0;
  const box = document.createElement('div');
  const seen = new Set();
  function visit(layer) {
    if (seen.has(layer)) return;
    seen.add(layer);
    for (const kind of ['Tooltip', 'Popup']) {
      const get = layer['get' + kind];
      const item = get ? get.call(layer) : null;
      if (!item) continue;
      let content = item.getContent ? item.getContent() : item._content;
      if (typeof content === 'function') content = content(layer);
      if (typeof content === 'string') box.innerHTML = content;
      else if (content && content.nodeType) {
        box.innerHTML = '';
        box.appendChild(content.cloneNode(true));
      }
      else continue;
      rendered += 1;
      injected += box.querySelectorAll('.pwn, #pwn-attr').length;
    }
    if (layer.getLayers) layer.getLayers().forEach(visit);
  }
  maps.forEach(m => m.eachLayer(visit));
  return {maps: maps.length, rendered, injected};
}"""


def _open(context, path: Path) -> dict:
    page = context.new_page()
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_timeout(300)  # let onload/onerror handlers of injected images fire
    # Switch every overlay on (account layers are built when first shown).
    boxes = page.locator(".leaflet-control-layers-overlays input")
    for i in range(boxes.count()):
        if not boxes.nth(i).is_checked():
            boxes.nth(i).check(force=True)
    maps = page.evaluate(RENDER_ALL)
    page.wait_for_timeout(200)
    seen = {
        "errors": errors,
        "dialogs": dialogs,
        "pwned": page.evaluate("() => window.__pwned === undefined ? null : window.__pwned"),
        "injected": page.locator(".pwn, #pwn-attr").count() + maps["injected"],
        "maps": maps,
        "html": page.content(),
        "text": page.inner_text("body"),
    }
    page.close()
    return seen


def test_every_page_is_inert(context, pages):
    report = {}
    for name, path in pages.items():
        seen = _open(context, path)
        report[name] = seen
        assert seen["pwned"] is None, f"{name}: a payload ran ({seen['pwned']})"
        assert seen["dialogs"] == [], f"{name}: a dialog opened {seen['dialogs']}"
        assert seen["injected"] == 0, f"{name}: {seen['injected']} injected elements"
        assert seen["errors"] == [], f"{name}: script errors {seen['errors']}"
        # The payloads reached the page (escaped): the test tested something.
        assert "__pwned" in seen["html"] or "pwn" in seen["html"], name
    # Every map's tooltips and popups were rendered, and names show as text.
    for name, seen in report.items():
        if name.endswith("/map") or name == "compare" or name.startswith("reps/"):
            assert seen["maps"]["maps"] >= 1 and seen["maps"]["rendered"] > 0, name
    first_map = next(s for n, s in report.items() if n.endswith("/map"))
    assert first_map["maps"]["rendered"] > 6000  # the accounts' popups included
    assert '<script>window.__pwned="script"</script>' in report["compare"]["text"] or any(
        '<script>window.__pwned="script"</script>' in s["text"] for s in report.values()
    )
    rendered = sum(s["maps"]["rendered"] for s in report.values())
    print(f"\nuntrusted pages: {len(report)} pages, {rendered} tooltips/popups rendered, 0 ran")
    rep_page = next(s for n, s in report.items() if n.startswith("reps/") and "R15" in n)
    assert re.search(r"R15<i class=pwn>", rep_page["text"]), "the rep id shows as text"


def test_the_checks_catch_a_page_that_is_not_inert(context, tmp_path):
    """Control: the same checks on a page that inserts names raw do see them run."""
    leaky = tmp_path / "leaky.html"
    leaky.write_text(
        "<!DOCTYPE html><html><body>"
        f"<div>{PAYLOADS[1]}</div><div>{PAYLOADS[2]}</div>"
        f"<script>var t = '{PAYLOADS[4]}';</script>"
        f"<div id=late></div><script>document.getElementById('late').innerHTML = "
        f"{PAYLOADS[9]!r};</script>"
        "</body></html>",
        encoding="utf-8",
    )
    seen = _open(context, leaky)
    assert seen["pwned"] in ("img", "sq")
    assert seen["injected"] >= 2
    assert seen["dialogs"] == ["1"]

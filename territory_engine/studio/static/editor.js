// Territory Studio: the planner's map editor. Units are selected on the map (click to toggle,
// or draw a lasso around them) or by a list of ids, and moved to a territory; every move is
// re-scored by the server (POST /api/plans/{id}/edit, the CLI's scorer): this file computes
// no measure, band or rule, it only shows the server's answer. The move list is the page's
// state: undo drops its last step, redo puts it back, and the whole list is sent each time.
// Every name or id from the data is set as text (textContent), never as HTML.
(function () {
  "use strict";
  var root = document.getElementById("editor");
  if (!root || typeof L === "undefined") { return; }
  var planId = root.getAttribute("data-plan");
  var version = parseInt(root.getAttribute("data-version"), 10);
  var csrf = root.getAttribute("data-csrf");
  var measures = (root.getAttribute("data-measures") || "").split(",").filter(Boolean);
  var $ = function (id) { return document.getElementById(id); };
  var palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
                 "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6", "#fdbf6f", "#8dd3c7", "#bc80bd",
                 "#80b1d3", "#fb8072", "#b3de69", "#ffed6f", "#6a3d9a", "#b15928"];

  // The territories the page offers, with their segment (from the page's own <select>).
  var territories = [];
  Array.prototype.forEach.call($("target").options, function (o) {
    territories.push({ id: o.value, segment: o.getAttribute("data-segment") || "", label: o.textContent });
  });
  // Colours are numbered within each segment: one layer's territories differ first.
  var colourIndex = {}, perSegment = {};
  territories.forEach(function (t) {
    perSegment[t.segment] = (perSegment[t.segment] || 0);
    colourIndex[t.id] = perSegment[t.segment]++;
  });
  var segmentOf = {};
  territories.forEach(function (t) { segmentOf[t.id] = t.segment; });
  function colour(tid) {
    return tid in colourIndex ? palette[colourIndex[tid] % palette.length] : "#bbbbbb";
  }

  // ------------------------------------------------------------------ state
  var steps = [];        // [{units: [unit_id...], to: territory_id}], applied in order
  var undone = [];       // steps undone, for redo
  var selected = {};     // unit_id -> true
  var layers = {};       // unit_id -> Leaflet layer of the current segment
  var props = {};        // unit_id -> feature properties (territory_id as saved)
  var base = null;       // the server's answer for no move
  var asked = 0;         // sequence of re-score requests (a late answer never wins)
  var saved = null;      // the move list as last saved (JSON), so leaving asks only when needed
  function savedSteps(list) { return saved !== null && JSON.stringify(list) === saved; }

  function moves() {
    var out = [];
    steps.forEach(function (s) {
      s.units.forEach(function (u) { out.push({ unit_id: u, to_territory_id: s.to }); });
    });
    return out;
  }
  function segment() { return $("segment").value; }
  // Where the move list puts a unit of the current segment (a later step wins).
  function territoryOf(unit) {
    var tid = props[unit] ? props[unit].territory_id : "";
    steps.forEach(function (s) {
      if (segmentOf[s.to] === segment() && s.units.indexOf(unit) >= 0) { tid = s.to; }
    });
    return tid;
  }

  // ------------------------------------------------------------------ requests
  function send(method, url, body) {
    var init = { method: method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRF-Token"] = csrf;
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        return { status: r.status, ok: r.ok, data: data };
      });
    });
  }

  // ------------------------------------------------------------------ map
  var map = L.map($("editor-map"), { attributionControl: false, boxZoom: false, zoomSnap: 0.25 });
  var unitLayer = null;

  function style(unit) {
    var tid = territoryOf(unit);
    var moved = props[unit] && tid !== props[unit].territory_id;
    return {
      color: selected[unit] ? "#000" : (moved ? "#222" : "#666"),
      weight: selected[unit] ? 3 : (moved ? 2 : 0.6),
      dashArray: moved && !selected[unit] ? "4 3" : null,
      fillColor: colour(tid),
      fillOpacity: selected[unit] ? 0.85 : 0.6
    };
  }
  function tooltip(unit) {
    var p = props[unit];
    var el = document.createElement("div");
    var tid = territoryOf(unit);
    el.textContent = [p.name + " (" + unit + ")", tid || "no territory",
                      p.n_accounts + " accounts"].join(" · ");
    return el;
  }
  function paint(unit) {
    var layer = layers[unit];
    if (!layer) { return; }
    layer.setStyle(style(unit));
    layer.setTooltipContent(tooltip(unit));
  }
  function paintAll() { Object.keys(layers).forEach(paint); }

  var loads = 0;  // sequence of map loads: the answer for a segment left meanwhile is dropped
  function loadUnits() {
    var wanted = segment(), mine = ++loads;
    var url = "/api/plans/" + planId + "/units.geojson?segment=" + encodeURIComponent(wanted);
    $("status").textContent = "loading the map…";
    return send("GET", url).then(function (res) {
      if (mine !== loads) { return; }
      if (!res.ok) { throw new Error(res.data.error || res.status); }
      if (unitLayer) { map.removeLayer(unitLayer); }
      layers = {}; props = {}; selected = {};
      unitLayer = L.geoJSON(res.data, {
        style: function (f) { props[f.properties.unit_id] = f.properties; return style(f.properties.unit_id); },
        onEachFeature: function (f, layer) {
          var unit = f.properties.unit_id;
          layers[unit] = layer;
          layer.bindTooltip(tooltip(unit), { sticky: true });
          layer.on("click", function () { if (!lasso.on) { toggle(unit); } });
          // The unit's id on its drawn shape: for assistive tools and the browser tests.
          layer.on("add", function () {
            var el = layer.getElement && layer.getElement();
            if (el) { el.setAttribute("data-unit", unit); }
          });
        }
      }).addTo(map);
      var bounds = unitLayer.getBounds();
      if (bounds.isValid()) { map.fitBounds(bounds); } else { map.setView([34, -84], 5); }
      $("status").textContent = "";
      root.setAttribute("data-units-loaded", wanted);
      selectionChanged();
    }).catch(function (e) { $("status").textContent = "The map could not be loaded (" + e.message + ")."; });
  }

  // ------------------------------------------------------------------ selection
  function toggle(unit) {
    if (selected[unit]) { delete selected[unit]; } else { selected[unit] = true; }
    paint(unit);
    selectionChanged();
  }
  function select(units) {
    units.forEach(function (u) { selected[u] = true; paint(u); });
    selectionChanged();
  }
  function selectionChanged() {
    var n = Object.keys(selected).length;
    $("selected-count").textContent = n + (n === 1 ? " unit" : " units") + " selected";
    $("move").disabled = n === 0;
  }
  $("clear").addEventListener("click", function () {
    var was = Object.keys(selected);
    selected = {};
    was.forEach(paint);
    selectionChanged();
  });
  $("by-list").addEventListener("submit", function (ev) {
    ev.preventDefault();
    // Ids or names, separated by commas, semicolons or new lines (names hold spaces).
    var wanted = $("unit-list").value.split(/[,;\n]+/).map(function (t) { return t.trim(); }).filter(Boolean);
    var byName = {};
    Object.keys(props).forEach(function (u) {
      var key = String(props[u].name).toLowerCase();
      (byName[key] = byName[key] || []).push(u);
    });
    var known = [], unknown = [];
    wanted.forEach(function (t) {
      if (t in layers) { known.push(t); return; }
      var named = byName[t.toLowerCase()];
      if (named) { known.push.apply(known, named); } else { unknown.push(t); }
    });
    select(known);
    $("list-message").textContent = known.length + " selected" +
      (unknown.length ? "; not units of this plan: " + unknown.slice(0, 10).join(", ") +
       (unknown.length > 10 ? " and " + (unknown.length - 10) + " more" : "") : "");
  });

  // The lasso: press, draw, release; units whose inner point (cx, cy) is inside are selected.
  var lasso = { on: false, points: null, line: null };
  function inside(x, y, ring) {  // ray casting, ring of [lng, lat]
    var hit = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) { hit = !hit; }
    }
    return hit;
  }
  function lassoMode(on) {
    lasso.on = on;
    $("lasso").setAttribute("aria-pressed", on ? "true" : "false");
    $("editor-map").classList.toggle("lassoing", on);
    if (on) { map.dragging.disable(); } else { map.dragging.enable(); }
  }
  $("lasso").addEventListener("click", function () { lassoMode(!lasso.on); });
  map.on("mousedown", function (ev) {
    if (!lasso.on) { return; }
    lasso.points = [ev.latlng];
    lasso.line = L.polyline(lasso.points, { color: "#000", weight: 2, dashArray: "5 4" }).addTo(map);
  });
  map.on("mousemove", function (ev) {
    if (!lasso.on || !lasso.points) { return; }
    lasso.points.push(ev.latlng);
    lasso.line.setLatLngs(lasso.points);
  });
  map.on("mouseup", function () {
    if (!lasso.on || !lasso.points) { return; }
    var ring = lasso.points.map(function (p) { return [p.lng, p.lat]; });
    map.removeLayer(lasso.line);
    lasso.points = null;
    lassoMode(false);
    if (ring.length < 3) { return; }
    select(Object.keys(props).filter(function (u) { return inside(props[u].cx, props[u].cy, ring); }));
  });

  // ------------------------------------------------------------------ scorecard
  function number(v, digits) {
    if (v === null || v === undefined || v === "") { return ""; }
    return Number(v).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  function cell(row, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) { td.className = cls; }
    row.appendChild(td);
    return td;
  }
  function show(data) {
    var head = $("headline").tBodies[0];
    head.textContent = "";
    Object.keys(data.headline || {}).forEach(function (k) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.textContent = k;
      tr.appendChild(th);
      cell(tr, data.headline[k]);
      head.appendChild(tr);
    });
    var broken = $("broken");
    broken.textContent = "";
    (data.broken && data.broken.length ? data.broken : ["None: every rule holds."]).forEach(function (b) {
      var li = document.createElement("li");
      li.textContent = b;
      broken.appendChild(li);
    });
    var before = {};
    ((base && base.territories) || []).forEach(function (t) { before[t.territory_id] = t; });
    var body = $("scorecard").tBodies[0];
    body.textContent = "";
    (data.territories || []).forEach(function (t) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-territory", t.territory_id);
      var was = before[t.territory_id];
      if (was && (was.n_accounts !== t.n_accounts || was.potential !== t.potential)) { tr.className = "changed"; }
      cell(tr, t.territory_id).setAttribute("data-k", "territory_id");
      cell(tr, t.rep_id).setAttribute("data-k", "rep_id");
      cell(tr, number(t.n_accounts, 0)).setAttribute("data-k", "n_accounts");
      cell(tr, number(t.potential, 0)).setAttribute("data-k", "potential");
      measures.forEach(function (m) {
        var band = t[m + "_in_band"];
        var out = band === false ? "out-of-band" : "";
        var dev = t[m + "_dev_pct"];
        cell(tr, dev === undefined || dev === null ? "" : (dev > 0 ? "+" : "") + number(dev, 1), out)
          .setAttribute("data-k", m + "_dev_pct");
        cell(tr, band === undefined || band === null ? "" : (band ? "yes" : "no"), out)
          .setAttribute("data-k", m + "_in_band");
      });
      body.appendChild(tr);
    });
  }

  function listSteps() {
    var ol = $("steps");
    ol.textContent = "";
    steps.forEach(function (s) {
      var li = document.createElement("li");
      li.textContent = (s.units.length === 1 ? "unit " + s.units[0] : s.units.length + " units") + " → " + s.to;
      ol.appendChild(li);
    });
    $("undo").disabled = steps.length === 0;
    $("redo").disabled = undone.length === 0;
    $("save-button").disabled = steps.length === 0;
    $("reoptimise").disabled = steps.length === 0;
  }

  // Re-score the whole move list (or show the plan as saved when it is empty).
  function refresh() {
    listSteps();
    paintAll();
    var mine = ++asked;
    var list = moves();
    if (list.length === 0) {
      if (base) { show(base); }
      $("status").textContent = "";
      root.setAttribute("data-scored", String(mine));
      return Promise.resolve();
    }
    $("status").textContent = "re-scoring…";
    var t0 = performance.now();
    return send("POST", "/api/plans/" + planId + "/edit", { moves: list }).then(function (res) {
      if (mine !== asked) { return; }
      if (!res.ok) {
        $("status").textContent = res.data.error || ("the server answered " + res.status);
        $("status").className = "error-text";
        return;
      }
      show(res.data);
      $("status").className = "";
      $("status").textContent = number(res.data.moved_accounts, 0) + " accounts moved · re-scored in " +
        Math.round(performance.now() - t0) + " ms";
      root.setAttribute("data-scored", String(mine));
    });
  }

  $("move").addEventListener("click", function () {
    var units = Object.keys(selected).sort();
    var to = $("target").value;
    if (!units.length || !to) { return; }
    steps.push({ units: units, to: to });
    undone = [];
    selected = {};
    selectionChanged();
    refresh();
  });
  $("undo").addEventListener("click", function () {
    if (steps.length) { undone.push(steps.pop()); refresh(); }
  });
  $("redo").addEventListener("click", function () {
    if (undone.length) { steps.push(undone.pop()); refresh(); }
  });

  function link(parent, href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    parent.appendChild(a);
    return a;
  }

  $("save").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var reason = $("reason").value.trim();
    var msg = $("save-message");
    msg.className = "";
    if (!reason) { msg.textContent = "Give a reason for these moves first."; return; }
    if (!steps.length) { msg.textContent = "There is no move to save."; return; }
    msg.textContent = "saving…";
    send("POST", "/api/plans/" + planId + "/edit",
         { moves: moves(), save: true, version: version, reason: reason }).then(function (res) {
      msg.textContent = "";
      if (res.status === 409) {
        msg.className = "error-text";
        msg.textContent = "Someone saved this plan since you opened it: reload the page and make your moves again.";
        return;
      }
      if (!res.ok || !res.data.saved) {
        msg.className = "error-text";
        msg.textContent = res.data.error || ("the server answered " + res.status);
        return;
      }
      version += 1;
      saved = JSON.stringify(steps);
      var id = Number(res.data.saved.id);
      msg.appendChild(document.createTextNode("Saved as version "));
      link(msg, "/plans/" + id, "plan #" + id);
      msg.appendChild(document.createTextNode(" (draft). "));
      link(msg, "/plans/" + id + "/edit", "Edit it");
    });
  });

  // ------------------------------------------------------------------ re-optimise
  function poll(jobId) {
    send("GET", "/api/jobs/" + jobId).then(function (res) {
      var msg = $("job-message"), bar = $("job-progress");
      if (!res.ok) { msg.textContent = res.data.error || ("the server answered " + res.status); return; }
      var job = res.data;
      bar.value = job.fraction || 0;
      msg.className = "";
      msg.textContent = job.progress || job.state;
      if (job.state === "done") {
        bar.hidden = true;
        msg.textContent = "Re-optimised: ";
        link(msg, "/plans/" + Number(job.result), "plan #" + Number(job.result));
        msg.appendChild(document.createTextNode(" (a new draft; this plan is unchanged)."));
        $("reoptimise").disabled = false;
        return;
      }
      if (job.state === "failed") {
        bar.hidden = true;
        msg.className = "error-text";
        msg.textContent = "The re-optimisation failed: " + (job.error || "no reason given");
        $("reoptimise").disabled = false;
        return;
      }
      window.setTimeout(function () { poll(jobId); }, 1000);
    });
  }
  $("reoptimise").addEventListener("click", function () {
    if (!steps.length) { return; }
    $("reoptimise").disabled = true;
    var msg = $("job-message");
    msg.className = "";
    msg.textContent = "starting…";
    send("POST", "/api/plans/" + planId + "/reoptimise", { moves: moves() }).then(function (res) {
      if (!res.ok) {
        msg.className = "error-text";
        msg.textContent = res.data.error || ("the server answered " + res.status);
        $("reoptimise").disabled = false;
        return;
      }
      $("job-progress").hidden = false;
      poll(res.data.id);
    });
  });

  // Escape leaves the lasso, then clears the selection.
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape") { return; }
    if (lasso.on) { lassoMode(false); return; }
    $("clear").click();
  });
  // Moves not saved are lost with the page: the browser asks first.
  window.addEventListener("beforeunload", function (ev) {
    if (steps.length && !savedSteps(steps)) { ev.preventDefault(); ev.returnValue = ""; }
  });

  // A job of this plan still running (the page was reloaded): show it again.
  send("GET", "/api/jobs").then(function (res) {
    if (!res.ok || !Array.isArray(res.data)) { return; }
    var active = res.data.filter(function (j) {
      return String(j.plan) === planId && (j.state === "queued" || j.state === "running");
    })[0];
    if (active) {
      $("reoptimise").disabled = true;
      $("job-progress").hidden = false;
      poll(active.id);
    }
  });

  // ------------------------------------------------------------------ start
  function offerTargets() {
    var target = $("target");
    var keep = target.value;
    target.textContent = "";
    territories.forEach(function (t) {
      if (t.segment !== segment() && segment() !== "") { return; }
      var o = document.createElement("option");
      o.value = t.id;
      o.textContent = t.label;
      target.appendChild(o);
    });
    if (keep) { target.value = keep; }
  }
  $("segment").addEventListener("change", function () { offerTargets(); loadUnits(); });
  // A click on a territory's row of the scorecard makes it the target of the next move.
  $("scorecard").tBodies[0].addEventListener("click", function (ev) {
    var row = ev.target.closest && ev.target.closest("tr[data-territory]");
    if (!row) { return; }
    var tid = row.getAttribute("data-territory");
    var offered = Array.prototype.some.call($("target").options, function (o) { return o.value === tid; });
    if (offered) { $("target").value = tid; }
  });
  offerTargets();
  listSteps();
  send("GET", "/api/plans/" + planId + "/edit").then(function (res) {
    if (res.ok) { base = res.data; if (!steps.length) { show(base); } root.setAttribute("data-scored", "0"); }
  });
  loadUnits();
}());

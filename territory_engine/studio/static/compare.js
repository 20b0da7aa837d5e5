// Territory Studio: the compare page's two maps (plan A and plan B), kept on the same
// view, with the moved accounts ringed on both. Everything comes from the page's
// scoped GeoJSON endpoints; names are set as text nodes, never as HTML.
(function () {
  "use strict";
  var box = document.getElementById("compare");
  if (!box || typeof L === "undefined") { return; }
  var palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666",
                 "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6"];
  // One colour per rep on both maps: a rep keeps its colour from A to B.
  function colour(repId) {
    var h = 0, s = String(repId || "");
    for (var i = 0; i < s.length; i++) { h = (h * 31 + s.charCodeAt(i)) | 0; }
    return palette[Math.abs(h) % palette.length];
  }
  function tip(layer, parts) {
    var el = document.createElement("div");
    el.textContent = parts.filter(Boolean).join(" · ");
    layer.bindTooltip(el);
  }
  function get(url) {
    return fetch(url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
  }
  var maps = ["map-a", "map-b"].map(function (id) {
    return L.map(document.getElementById(id), { attributionControl: false });
  });
  var busy = false;
  maps.forEach(function (src, i) {
    var dst = maps[1 - i];
    src.on("move", function () {
      if (busy) { return; }
      busy = true;
      dst.setView(src.getCenter(), src.getZoom(), { animate: false });
      busy = false;
    });
  });
  function territories(data, map) {
    return L.geoJSON(data, {
      style: function (f) {
        return { color: "#333", weight: 1, fillColor: colour(f.properties.rep_id), fillOpacity: 0.5 };
      },
      onEachFeature: function (f, layer) {
        var p = f.properties || {};
        tip(layer, [p.territory_id, p.rep_name, p.n_accounts ? p.n_accounts + " accounts" : ""]);
      }
    }).addTo(map);
  }
  function rings(data, map) {
    L.geoJSON(data, {
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { radius: 4, color: "#ff7f00", weight: 2, fillOpacity: 0 });
      },
      onEachFeature: function (f, layer) {
        var p = f.properties || {};
        tip(layer, [p.account_id, p.name, (p.from_rep_name || "") + " → " + (p.to_rep_name || "")]);
      }
    }).addTo(map);
  }
  Promise.all([get(box.getAttribute("data-a")), get(box.getAttribute("data-b")),
               get(box.getAttribute("data-moves"))])
    .then(function (all) {
      var a = territories(all[0], maps[0]);
      var b = territories(all[1], maps[1]);
      rings(all[2], maps[0]);
      rings(all[2], maps[1]);
      var bounds = a.getBounds();
      if (b.getBounds().isValid()) { bounds = bounds.isValid() ? bounds.extend(b.getBounds()) : b.getBounds(); }
      if (bounds.isValid()) { maps[0].fitBounds(bounds); } else { maps[0].setView([34, -84], 5); }
      maps[1].setView(maps[0].getCenter(), maps[0].getZoom(), { animate: false });
    })
    .catch(function () { box.textContent = "The maps could not be loaded."; });
}());

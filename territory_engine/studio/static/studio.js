// Territory Studio: draws the map of a page from its GeoJSON (no inline script, so the
// Content-Security-Policy forbids every inline script). Names are set as text nodes,
// never as HTML, so an account or rep name cannot run as markup.
(function () {
  "use strict";
  // The compare page draws two maps with its own file (loaded from 'self', as the CSP wants).
  if (document.getElementById("compare")) {
    var extra = document.createElement("script");
    extra.src = "/static/compare.js";
    document.body.appendChild(extra);
    return;
  }
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var map = L.map(el, { attributionControl: false });
  var palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"];
  fetch(el.getAttribute("data-geojson"), { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(function (data) {
      var i = 0;
      var layer = L.geoJSON(data, {
        style: function () { var c = palette[i++ % palette.length]; return { color: "#333", weight: 1, fillColor: c, fillOpacity: 0.5 }; },
        onEachFeature: function (feature, lyr) {
          var p = feature.properties || {};
          var box = document.createElement("div");
          box.textContent = [p.territory_id, p.rep_name, p.n_accounts ? p.n_accounts + " accounts" : ""].filter(Boolean).join(" · ");
          lyr.bindTooltip(box);
        }
      }).addTo(map);
      var bounds = layer.getBounds();
      if (bounds.isValid()) { map.fitBounds(bounds); } else { map.setView([34, -84], 5); }
    })
    .catch(function () { el.textContent = "The map could not be loaded."; });
}());

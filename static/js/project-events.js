// The small map of a project's visits and events: one marker per located place, named by
// its kind, title and date (all text: Leaflet's alt/title attributes, never HTML).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("events-places").textContent);
  var map = L.map("events-map", { scrollWheelZoom: false });
  var tiles = window.mapappTiles(map, data.tiles);
  window.mapappBasemap(map, tiles, data.basemap);
  var bounds = [];
  data.places.forEach(function (p) {
    var name = (data.kinds[p.kind] || p.kind) + ": " + p.title + (p.when ? " (" + p.when + ")" : "");
    var marker = L.marker([p.lat, p.lon], { alt: name, title: name, keyboard: true }).addTo(map);
    var box = document.createElement("div");
    box.textContent = name + (p.place ? " — " + p.place : "");
    marker.bindPopup(box);
    bounds.push([p.lat, p.lon]);
  });
  if (bounds.length === 1) { map.setView(bounds[0], 12); } else { map.fitBounds(bounds, { padding: [20, 20] }); }
})();

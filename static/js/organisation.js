// The small map on an organisation's page.
(function () {
  "use strict";
  var where = JSON.parse(document.getElementById("org-location").textContent);
  var map = L.map("org-map", { scrollWheelZoom: false }).setView([where.lat, where.lon], 14);
  var tiles = window.mapappTiles(map, where.tiles);
  window.mapappBasemap(map, tiles, where.basemap);
  L.marker([where.lat, where.lon], { alt: where.name, title: where.name }).addTo(map);
})();

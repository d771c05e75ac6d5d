// The small map on an organisation's page.
(function () {
  "use strict";
  var where = JSON.parse(document.getElementById("org-location").textContent);
  var map = L.map("org-map", { scrollWheelZoom: false }).setView([where.lat, where.lon], 14);
  L.tileLayer(where.tileUrl, { attribution: where.attribution, maxZoom: where.maxZoom }).addTo(map);
  L.marker([where.lat, where.lon]).addTo(map);
})();

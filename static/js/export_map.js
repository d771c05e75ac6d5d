/* The standalone HTML export: reads the organisations from the page's JSON and draws
   clustered markers. Every organisation field is written with textContent. */
(function () {
  "use strict";
  var settings = JSON.parse(document.getElementById("export-settings").textContent);
  var rows = JSON.parse(document.getElementById("export-organisations").textContent);
  var map = L.map("map", { maxZoom: settings.maxZoom }).setView(settings.center, settings.zoom);
  L.control.scale().addTo(map);
  var tiles = settings.tileUrl ? L.tileLayer(settings.tileUrl, { attribution: settings.attribution }).addTo(map) : null;
  settings.basemap.outlines = JSON.parse(document.getElementById("export-outlines").textContent);
  window.mapappBasemap(map, tiles, settings.basemap);
  var legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    return document.getElementById("legend").content.firstElementChild.cloneNode(true);
  };
  legend.addTo(map);
  // Only links to http(s) pages: never javascript: or data: from a tampered file.
  function safeHref(url) {
    return /^https?:\/\//i.test(url) ? url : null;
  }
  function popup(row) {
    var box = document.createElement("div");
    box.className = "export-popup";
    var title = document.createElement("strong");
    var href = safeHref(row.url);
    var name = href ? document.createElement("a") : document.createElement("span");
    name.textContent = row.name;
    if (href) {
      name.href = href;
      name.target = "_blank";
      name.rel = "noopener";
    }
    title.appendChild(name);
    box.appendChild(title);
    if (row.place) {
      box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(row.place));
    }
    return box;
  }
  var cluster = L.markerClusterGroup();
  rows.forEach(function (row) {
    var marker = L.circleMarker([row.lat, row.lon], {
      radius: 7, color: "#1f6f5c", fill: true, fillOpacity: 0.8, weight: 2
    });
    marker.bindPopup(function () { return popup(row); }, { maxWidth: 300 });
    var tip = document.createElement("span");
    tip.textContent = row.name;
    marker.bindTooltip(tip);
    cluster.addLayer(marker);
  });
  map.addLayer(cluster);
  if (settings.bounds) {
    map.fitBounds([[settings.bounds[0], settings.bounds[1]], [settings.bounds[2], settings.bounds[3]]],
                  { padding: [20, 20] });
  }
}());

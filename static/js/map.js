// The map's data layer: fetches the published organisations as GeoJSON and
// draws them as clustered markers on the folium-built Leaflet map.
// Organisation text only ever reaches the page through textContent.
(function () {
  "use strict";

  var settings = JSON.parse(document.getElementById("mapapp-settings").textContent);
  var map = window[settings.mapName];
  var status = document.getElementById("map-status");

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function popupContent(p) {
    var box = el("div", "org-popup");
    var title = el("a", "org-popup-name", p.name);
    title.href = p.url;
    box.appendChild(el("strong")).appendChild(title);
    var place = [p.city, p.country_name].filter(Boolean).join(", ");
    if (place) box.appendChild(el("div", "org-popup-place", place));
    if (p.theme_labels.length) {
      var list = el("ul", "org-popup-themes");
      p.theme_labels.forEach(function (label) { list.appendChild(el("li", null, label)); });
      box.appendChild(list);
    }
    if (p.fictional) box.appendChild(el("div", "org-popup-fictional", "Fictional demo organisation"));
    return box;
  }

  var clusters = L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false });
  map.addLayer(clusters);

  fetch(settings.dataUrl, { headers: { Accept: "application/geo+json" } })
    .then(function (response) {
      if (!response.ok) throw new Error("the server answered " + response.status);
      return response.json();
    })
    .then(function (collection) {
      var markers = collection.features.map(function (feature) {
        var lonLat = feature.geometry.coordinates; // GeoJSON order: [lon, lat]
        var marker = L.marker([lonLat[1], lonLat[0]], { title: feature.properties.name });
        marker.bindPopup(function () { return popupContent(feature.properties); });
        return marker;
      });
      clusters.addLayers(markers);
      if (markers.length) {
        map.fitBounds(clusters.getBounds(), { padding: [30, 30], maxZoom: 12 });
      }
      status.textContent = markers.length === 1 ? "1 organisation on the map"
        : markers.length + " organisations on the map";
      document.body.dataset.mapReady = "true";
    })
    .catch(function (error) {
      status.textContent = "The organisations could not be loaded (" + error.message + "). Try reloading the page.";
      status.classList.add("error");
    });
})();

// The edit form's map: a draggable pin whose position goes into the form's lat/lon.
// Moving it by hand makes the location "manual", which geocoding and imports never overwrite.
(function () {
  "use strict";
  var box = document.getElementById("edit-map");
  var form = document.getElementById("edit-form");
  var lat = form.elements.lat, lon = form.elements.lon;
  var map = L.map(box, { scrollWheelZoom: false });
  var tiles = window.mapappTiles(map, JSON.parse(box.dataset.tiles));
  window.mapappBasemap(map, tiles, JSON.parse(box.dataset.basemap));
  var marker = null;

  function place(latlng) {
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
    form.elements.geo_precision.value = "manual";
    form.elements.geo_source.value = "";
    document.getElementById("precision").textContent = box.dataset.manualWord;
  }

  function addMarker(latlng) {
    marker = L.marker(latlng, { draggable: true, keyboard: true, title: box.dataset.pinTitle, alt: box.dataset.pinTitle }).addTo(map);
    marker.on("dragend", function () { place(marker.getLatLng()); });
  }

  if (lat.value && lon.value) {
    var here = [parseFloat(lat.value), parseFloat(lon.value)];
    map.setView(here, 14);
    addMarker(here);
  } else {
    map.setView(JSON.parse(box.dataset.center), parseInt(box.dataset.zoom, 10));
  }
  map.on("click", function (event) {
    if (!marker) addMarker(event.latlng); else marker.setLatLng(event.latlng);
    place(event.latlng);
  });
  document.body.dataset.editReady = "true";
})();

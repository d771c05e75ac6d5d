// The edit form's map: a draggable pin whose position goes into the form's lat/lon.
// Moving it by hand makes the location "manual", which geocoding and imports never overwrite.
// It opens on the organisation's point, else its town or country; a place search (the
// geocoder chain, on the server) moves the pin, and a line says which country it is in.
(function () {
  "use strict";
  var box = document.getElementById("edit-map");
  var form = document.getElementById("edit-form");
  var lat = form.elements.lat, lon = form.elements.lon;
  var map = L.map(box, { scrollWheelZoom: false });
  var tiles = window.mapappTiles(map, JSON.parse(box.dataset.tiles));
  window.mapappBasemap(map, tiles, JSON.parse(box.dataset.basemap));
  var line = document.getElementById("pin-country");
  box.leafletMap = map;  // for the browser tests
  var marker = null;
  var asked = 0;

  function country() { return form.elements.country.value; }

  function sayCountry() {
    if (!lat.value || !lon.value) return;
    var mine = ++asked;
    var url = box.dataset.countryUrl + "?lat=" + encodeURIComponent(lat.value) + "&lon=" +
      encodeURIComponent(lon.value) + "&country=" + encodeURIComponent(country());
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      if (mine === asked) line.textContent = data.text;
    });
  }

  function place(latlng) {
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
    form.elements.geo_precision.value = "manual";
    form.elements.geo_source.value = "";
    document.getElementById("precision").textContent = box.dataset.manualWord;
    sayCountry();
  }

  function addMarker(latlng) {
    marker = L.marker(latlng, { draggable: true, keyboard: true, title: box.dataset.pinTitle, alt: box.dataset.pinTitle }).addTo(map);
    marker.on("dragend", function () { place(marker.getLatLng()); });
  }

  function putPin(latlng) {
    if (!marker) addMarker(latlng); else marker.setLatLng(latlng);
    place(L.latLng(latlng));
  }

  var start = JSON.parse(box.dataset.start || "null");
  if (lat.value && lon.value) {
    var here = [parseFloat(lat.value), parseFloat(lon.value)];
    map.setView(here, 14);
    addMarker(here);
  } else if (start && start.bounds) {
    map.fitBounds(start.bounds);
  } else if (start && start.center) {
    map.setView(start.center, start.zoom);
  } else {
    map.setView(JSON.parse(box.dataset.center), parseInt(box.dataset.zoom, 10));
  }
  map.on("click", function (event) { putPin(event.latlng); });
  form.elements.country.addEventListener("change", sayCountry);

  var query = document.getElementById("place-query");
  var results = document.getElementById("place-results");
  function search() {
    var text = query.value.trim();
    if (!text) return;
    var url = box.dataset.placesUrl + "?q=" + encodeURIComponent(text) + "&country=" + encodeURIComponent(country());
    fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (places) {
      results.textContent = "";
      if (!places.length) {
        var none = document.createElement("li");
        none.textContent = box.dataset.noPlaces;
        results.appendChild(none);
        return;
      }
      places.forEach(function (p) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = p.label;  // text, never markup
        button.addEventListener("click", function () {
          putPin([p.lat, p.lon]);
          map.setView([p.lat, p.lon], 13);
          results.textContent = "";
        });
        item.appendChild(button);
        results.appendChild(item);
      });
    });
  }
  document.getElementById("place-go").addEventListener("click", search);
  query.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); search(); }  // not the form's submit
  });
  document.body.dataset.editReady = "true";
})();

// The visit form: a draggable pin whose position goes into the form's lat/lon ("manual"), the
// place hidden for an online meeting, and search-as-you-type boxes that add organisations to
// the table with a role. Without this script the form's own Search buttons do the same.
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  var box = document.getElementById("visit-map");
  var lat = form.elements.lat, lon = form.elements.lon;
  var map = L.map(box, { scrollWheelZoom: false });
  var tiles = window.mapappTiles(map, JSON.parse(box.dataset.tiles));
  window.mapappBasemap(map, tiles, JSON.parse(box.dataset.basemap));
  var marker = null;

  function place(latlng) {
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
    form.elements.geo_precision.value = "manual";
    document.getElementById("precision").textContent = box.dataset.manualWord;
  }

  function addMarker(latlng) {
    marker = L.marker(latlng, { draggable: true, keyboard: true, title: box.dataset.pinTitle, alt: box.dataset.pinTitle }).addTo(map);
    marker.on("dragend", function () { place(marker.getLatLng()); });
  }

  map.setView(JSON.parse(box.dataset.center), parseInt(box.dataset.zoom, 10));
  if (lat.value && lon.value) addMarker([parseFloat(lat.value), parseFloat(lon.value)]);
  map.on("click", function (event) {
    if (!marker) addMarker(event.latlng); else marker.setLatLng(event.latlng);
    place(event.latlng);
  });

  var kind = document.getElementById("visit-kind");
  var where = document.getElementById("visit-place");
  function showPlace() {
    where.hidden = kind.value === "online";
    if (!where.hidden) map.invalidateSize();
  }
  kind.addEventListener("change", showPlace);
  showPlace();

  var table = document.querySelector("#visit-organisations tbody");
  var rowTemplate = document.getElementById("org-row");

  function chosenIds() {
    return Array.prototype.map.call(form.querySelectorAll("input[name=org]"), function (c) { return c.value; });
  }

  function addRow(org, role) {
    var row = rowTemplate.content.firstElementChild.cloneNode(true);
    var check = row.querySelector("input");
    check.name = "org";
    check.value = String(org.id);
    check.setAttribute("aria-label", org.name);
    var where = [org.city, org.country].filter(Boolean).join(", ");
    row.querySelector(".org-name").textContent = org.name + (where ? " (" + where + ")" : "");
    var select = row.querySelector("select");
    select.name = "role_" + org.id;
    select.value = role;
    table.appendChild(row);
  }

  Array.prototype.forEach.call(form.querySelectorAll("input[data-role]"), function (input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var asked = 0;
    function clear() { list.textContent = ""; list.hidden = true; }
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }  // typing searches; Enter saves nothing
      if (event.key === "Escape") { clear(); }
    });
    input.addEventListener("input", function () {
      var q = input.value.trim();
      var mine = ++asked;
      if (q.length < 2) { clear(); return; }
      fetch(form.dataset.searchUrl + "?q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { organisations: [] }; })
        .then(function (data) {
          if (mine !== asked) return;  // a later keystroke's answer counts
          clear();
          var taken = chosenIds();
          data.organisations.forEach(function (org) {
            if (taken.indexOf(String(org.id)) !== -1) return;
            var item = document.createElement("li");
            item.setAttribute("role", "none");
            var button = document.createElement("button");
            button.type = "button";
            button.setAttribute("role", "option");
            var where = [org.city, org.country].filter(Boolean).join(", ");
            button.textContent = org.name + (where ? " (" + where + ")" : "") + " → " + input.dataset.roleWord;
            button.addEventListener("click", function () {
              addRow(org, input.dataset.role);
              input.value = "";
              clear();
              input.focus();
            });
            item.appendChild(button);
            list.appendChild(item);
          });
          list.hidden = !list.firstChild;
        });
    });
  });
  document.body.dataset.visitsReady = "true";
})();

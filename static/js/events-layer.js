// The map's optional layer of visits and events ("Show events"): the places of the visits
// of the selected projects (of every project when none is selected), drawn as diamonds,
// not as the organisations' pins. Each marker is keyboard reachable and named
// "Seminar: title (date)"; every text reaches the page through textContent or attributes.
(function () {
  "use strict";
  var box = document.getElementById("show-events");
  var map = window.mapappMap;
  if (!box || !map) return;
  var settings = JSON.parse(document.getElementById("events-layer-settings").textContent);
  var layer = L.layerGroup();
  var lang = document.documentElement.lang || undefined;
  var asked = 0;

  function day(iso) {
    if (!iso) return "";
    var parts = iso.split("-").map(Number);
    var when = new Date(Date.UTC(parts[0], parts[1] - 1, parts[2]));
    return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeZone: "UTC" }).format(when);
  }

  function dates(v) {
    if (!v.date) return "";
    return v.end_date && v.end_date > v.date ? day(v.date) + " – " + day(v.end_date) : day(v.date);
  }

  function nameOf(v) {
    var when = dates(v);
    return (settings.kinds[v.kind] || v.kind) + ": " + v.title + (when ? " (" + when + ")" : "");
  }

  function draw(visits) {
    layer.clearLayers();
    visits.forEach(function (v) {
      if (v.lat === null || v.lon === null || v.kind === "online") return;
      var name = nameOf(v);
      var icon = L.divIcon({ className: "event-marker event-" + v.kind, iconSize: [18, 18], html: "" });
      var marker = L.marker([v.lat, v.lon], { icon: icon, title: name, keyboard: true, zIndexOffset: 1000 });
      var text = document.createElement("div");
      var strong = document.createElement("strong");
      strong.textContent = name;
      text.appendChild(strong);
      if (v.place || v.city) {
        var where = document.createElement("div");
        where.textContent = v.place || v.city;
        text.appendChild(where);
      }
      marker.bindPopup(text);
      marker.on("add", function () {
        var node = marker.getElement();
        node.setAttribute("role", "button");
        node.setAttribute("aria-label", name);
        node.setAttribute("tabindex", "0");
      });
      layer.addLayer(marker);
    });
  }

  function load() {
    var params = new URLSearchParams();
    new URLSearchParams(window.location.search).getAll("project").forEach(function (p) { params.append("project", p); });
    params.set("lang", lang || "en");
    var ticket = ++asked;
    fetch(settings.url + "?" + params.toString()).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(function (body) {
      if (ticket === asked && box.checked) draw(body.visits);
    }).catch(function () { layer.clearLayers(); });
  }

  function toggle() {
    if (box.checked) { layer.addTo(map); load(); } else { map.removeLayer(layer); }
  }

  box.addEventListener("change", toggle);
  var form = document.getElementById("filters");
  if (form) form.addEventListener("change", function () { if (box.checked) setTimeout(load, 0); });
  window.addEventListener("popstate", function () { if (box.checked) load(); });
  if (box.checked) toggle();  // kept checked by the browser on back
})();

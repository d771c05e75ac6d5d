// The site settings' map: staff pan and zoom to the view the map should open on, and
// "Use this view" writes its bounds into the four fields the form sends (which stay
// editable by hand without JavaScript).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("settings-map-data").textContent);
  var box = document.getElementById("settings-map");
  var names = ["view_south", "view_west", "view_north", "view_east"];
  var inputs = names.map(function (name) { return document.querySelector('input[name="' + name + '"]'); });
  var status = document.getElementById("view-status");
  box.hidden = false;
  document.getElementById("view-actions").hidden = false;
  document.getElementById("view-numbers").hidden = true;
  var map = L.map(box, { scrollWheelZoom: false });
  var tiles = window.mapappTiles(map, data.tiles);
  window.mapappBasemap(map, tiles, data.basemap);
  var numbers = inputs.map(function (input) { return parseFloat(input.value); });
  if (numbers.every(function (n) { return isFinite(n); })) {
    map.fitBounds([[numbers[0], numbers[1]], [numbers[2], numbers[3]]], { animate: false });
  } else {
    map.setView(data.center, data.zoom);
  }
  document.getElementById("use-view").addEventListener("click", function () {
    var b = map.getBounds();
    var values = [Math.max(b.getSouth(), -90), Math.max(b.getWest(), -180),
                  Math.min(b.getNorth(), 90), Math.min(b.getEast(), 180)];
    inputs.forEach(function (input, i) { input.value = values[i].toFixed(5); });
    status.textContent = data.saved;
  });
  document.getElementById("clear-view").addEventListener("click", function () {
    inputs.forEach(function (input) { input.value = ""; });
    status.textContent = data.cleared;
  });
})();

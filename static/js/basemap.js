// A base map that never leaves people on a blank grey plane: when the tile server
// cannot be reached (no internet, a blocked server, none configured), the map draws the
// Natural Earth country outlines shipped with mapapp and says so in a short notice.
// Used by every map surface: the map, the embed, organisation pages, the staff pin
// editor and the standalone HTML export (which passes its outlines inline).
(function () {
  "use strict";

  var WAIT_MS = 4000;  // no tile at all after this long: the server is not answering
  var ERRORS = 2;      // this many failed tiles before any arrived: it is refusing
  var FALLBACK_ZOOM = 8;

  // Leaflet's own control words ("Zoom in", "Close popup") in the page's language.
  function localise(map, words) {
    if (!words) return;
    var zoom = map.zoomControl && map.zoomControl.getContainer();
    if (zoom) {
      [[".leaflet-control-zoom-in", words.zoomIn], [".leaflet-control-zoom-out", words.zoomOut]].forEach(function (pair) {
        var button = zoom.querySelector(pair[0]);
        if (button) { button.title = pair[1]; button.setAttribute("aria-label", pair[1]); }
      });
    }
    if (map.attributionControl && words.leaflet) {
      var link = document.createElement("a");
      link.href = "https://leafletjs.com";
      link.title = words.leaflet;
      link.textContent = "Leaflet";
      map.attributionControl.setPrefix(link.outerHTML);
    }
    map.on("popupopen", function (event) {
      var close = event.popup.getElement().querySelector(".leaflet-popup-close-button");
      if (close) { close.title = words.closePopup; close.setAttribute("aria-label", words.closePopup); }
    });
  }

  // The notice that outlines replace the tiles: a corner control (never over the markers'
  // middle), short on a small map, closed with its button.
  function outlineNotice(map, options) {
    var notice = L.control({ position: "bottomleft" });
    notice.onAdd = function () {
      var box = L.DomUtil.create("div", "basemap-notice");
      box.setAttribute("role", "status");
      var small = map.getSize().x < 500 || map.getSize().y < 300;
      box.appendChild(document.createElement("span")).textContent = small && options.noticeShort ? options.noticeShort : options.notice;
      var words = options.words || {};
      var close = box.appendChild(document.createElement("button"));
      close.type = "button";
      close.className = "basemap-notice-close";
      close.textContent = "×";
      close.title = words.closeNotice || "Close";
      close.setAttribute("aria-label", words.closeNotice || "Close");
      close.addEventListener("click", function () { notice.remove(); });
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    return notice;
  }

  // The configured tile server as a layer of the small maps (organisation page, pin
  // editor), or null when none is configured; tiles: { url, attribution, maxZoom }.
  window.mapappTiles = function (map, tiles) {
    if (!tiles.url) return null;
    return L.tileLayer(tiles.url, { attribution: tiles.attribution, maxZoom: tiles.maxZoom }).addTo(map);
  };

  // options: { outlines: URL or GeoJSON object, notice: text, attribution: text, words: {…} }
  window.mapappBasemap = function (map, tiles, options) {
    localise(map, options.words);
    var loaded = 0, failed = 0, outlineLayer = null, notice = null, timer = null;

    function fallBack() {
      if (outlineLayer || loaded) return;
      clearTimeout(timer);
      map.getContainer().classList.add("basemap-fallback");
      // Outlines say which country a place is in, not which street: show the country.
      if (map.getZoom() > FALLBACK_ZOOM) map.setZoom(FALLBACK_ZOOM);
      outlineLayer = L.layerGroup().addTo(map);
      notice = outlineNotice(map, options);
      notice.addTo(map);
      // The attribution says what is drawn: the outlines' source, not the tiles' that failed.
      if (map.attributionControl && tiles && tiles.options.attribution) {
        map.attributionControl.removeAttribution(tiles.options.attribution);
      }
      if (map.attributionControl && options.attribution) map.attributionControl.addAttribution(options.attribution);
      var source = options.outlines;
      var data = typeof source === "string"
        ? fetch(source).then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        : Promise.resolve(source);
      data.then(function (geojson) {
        if (!outlineLayer) return;
        var countries = L.geoJSON(geojson, {
          interactive: false,
          style: { className: "basemap-outline", color: "#7a8a87", weight: 1, fillColor: "#f5f3ec", fillOpacity: 1 },
        });
        outlineLayer.addLayer(countries);
        countries.bringToBack();
        map.getContainer().dataset.basemap = "outlines";
      }).catch(function () { map.getContainer().dataset.basemap = "none"; });
    }

    function recover() {
      // Tiles arrive after all (a slow network): the real map replaces the outlines.
      if (!outlineLayer) return;
      map.removeLayer(outlineLayer);
      outlineLayer = null;
      notice.remove();
      if (map.attributionControl && options.attribution) map.attributionControl.removeAttribution(options.attribution);
      if (map.attributionControl && tiles.options.attribution) map.attributionControl.addAttribution(tiles.options.attribution);
      map.getContainer().classList.remove("basemap-fallback");
      map.getContainer().dataset.basemap = "tiles";
    }

    if (!tiles) { fallBack(); return; }
    tiles.on("tileload", function () { loaded += 1; clearTimeout(timer); recover(); });
    tiles.on("tileerror", function () { failed += 1; if (failed >= ERRORS && !loaded) fallBack(); });
    tiles.on("loading", function () {
      if (!loaded && !timer) timer = setTimeout(fallBack, WAIT_MS);
    });
    if (!loaded) timer = setTimeout(fallBack, WAIT_MS);
  };
})();

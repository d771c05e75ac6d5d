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

  // Names on the outlines: towns of a million, countries, then the other towns by
  // population, each from its own zoom and only where it overlaps no name already placed
  // (greedy, in screen pixels, the same at every pan of a zoom). They sit in a pane under the markers, take no pointer or
  // keyboard and are hidden from screen readers: the map's named region says what it is.
  var LABEL_PANE = "basemapLabels";
  var LABEL_GAP = 3;  // pixels kept clear around each name
  var DOT = 6;        // a town's dot, left of its name

  function labelLayer(map, data) {
    var pane = map.getPane(LABEL_PANE) || map.createPane(LABEL_PANE);
    pane.style.zIndex = 450;  // over the outlines (400), under the markers (600)
    pane.style.pointerEvents = "none";
    pane.setAttribute("aria-hidden", "true");
    var box = null;  // the names drawn, one element: not markers, which other scripts count
    var context = document.createElement("canvas").getContext("2d");
    var fonts = {};
    var placed = {};  // zoom → the names placed at that zoom

    function font(kind) {  // the label's CSS font, for measuring names before drawing them
      if (!fonts[kind]) {
        var probe = L.DomUtil.create("span", "basemap-label-" + kind, pane);
        var style = window.getComputedStyle(probe);
        fonts[kind] = { css: [style.fontStyle, style.fontWeight, style.fontSize, style.fontFamily].join(" "),
                        height: parseFloat(style.fontSize) * 1.25 };
        L.DomUtil.remove(probe);
      }
      return fonts[kind];
    }

    function place(zoom) {
      if (placed[zoom]) return placed[zoom];
      var cells = {}, kept = [], CELL = 128;
      function cellsOf(b, each) {
        for (var x = Math.floor(b[0] / CELL); x <= Math.floor(b[2] / CELL); x++) {
          for (var y = Math.floor(b[1] / CELL); y <= Math.floor(b[3] / CELL); y++) each(x + ":" + y);
        }
      }
      function free(b) {
        var clear = true;
        cellsOf(b, function (key) {
          (cells[key] || []).forEach(function (o) {
            if (b[0] < o[2] && o[0] < b[2] && b[1] < o[3] && o[1] < b[3]) clear = false;
          });
        });
        return clear;
      }
      // The towns of a million first (a capital is what one looks for), then the countries,
      // then the other towns.
      var towns = data.towns || [], BIG = 4;
      [["town", towns.filter(function (t) { return t[3] <= BIG; })], ["country", data.countries || []],
       ["town", towns.filter(function (t) { return t[3] > BIG; })]].forEach(function (pair) {
        var kind = pair[0], measure = font(kind);
        context.font = measure.css;
        pair[1].forEach(function (item) {
          if (item[3] > zoom) return;
          var p = map.project([item[1], item[2]], zoom);
          var w = context.measureText(item[0]).width, h = measure.height;
          // A country's name is centred on its point, or just below or above it when that is
          // taken (by its capital); a town's is right of its dot, or left of it.
          var tries = kind === "country"
            ? [0, 1.2, -1.2].map(function (shift) {
              var y = p.y + shift * h;
              return ["", [p.x - w / 2, y - h / 2, p.x + w / 2, y + h / 2], shift * h];
            })
            : [["", [p.x - DOT / 2, p.y - h / 2, p.x + DOT / 2 + LABEL_GAP + w, p.y + h / 2]],
               ["left", [p.x - DOT / 2 - LABEL_GAP - w, p.y - h / 2, p.x + DOT / 2, p.y + h / 2]]];
          for (var i = 0; i < tries.length; i++) {
            var b = tries[i][1];
            b = [b[0] - LABEL_GAP, b[1] - LABEL_GAP, b[2] + LABEL_GAP, b[3] + LABEL_GAP];
            if (!free(b)) continue;
            cellsOf(b, function (key) { (cells[key] = cells[key] || []).push(b); });
            kept.push({ kind: kind, side: tries[i][0], shift: tries[i][2] || 0, name: item[0],
                        at: L.latLng(item[1], item[2]) });
            return;
          }
        });
      });
      return (placed[zoom] = kept);
    }

    function draw() {
      box.textContent = "";
      var view = map.getBounds().pad(0.5);
      place(Math.round(map.getZoom())).forEach(function (label) {
        if (!view.contains(label.at)) return;
        var anchor = L.DomUtil.create("div", "basemap-label", box);
        var text = anchor.appendChild(document.createElement("span"));
        text.className = "basemap-label-" + label.kind + (label.side ? " " + label.side : "");
        text.textContent = label.name;
        if (label.shift) text.style.marginTop = label.shift + "px";
        L.DomUtil.setPosition(anchor, map.latLngToLayerPoint(label.at));
      });
    }

    // Hidden while the zoom animates (leaflet-zoom-hide), drawn again at the new zoom.
    var Layer = L.Layer.extend({
      options: { pane: LABEL_PANE, attribution: data.attribution },
      onAdd: function () {
        box = L.DomUtil.create("div", "basemap-labels leaflet-zoom-hide", this.getPane());
        map.on("zoomend moveend", draw);
        draw();
      },
      onRemove: function () {
        map.off("zoomend moveend", draw);
        L.DomUtil.remove(box);
      },
    });
    return new Layer();
  }

  // The configured tile server as a layer of the small maps (organisation page, pin
  // editor), or null when none is configured; tiles: { url, attribution, maxZoom }.
  window.mapappTiles = function (map, tiles) {
    if (!tiles.url) return null;
    return L.tileLayer(tiles.url, { attribution: tiles.attribution, maxZoom: tiles.maxZoom }).addTo(map);
  };

  // options: { outlines: URL or GeoJSON object, labels: URL of the names drawn on them (none:
  // no names), notice: text, attribution: text, words: {…} }
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
      if (options.labels) {
        fetch(options.labels).then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
          .then(function (names) { if (outlineLayer) outlineLayer.addLayer(labelLayer(map, names)); })
          .catch(function () { /* outlines without names still say which country a pin is in */ });
      }
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

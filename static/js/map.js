// The map's data layer. Reads the filters from the URL, asks the API for what the
// current view needs (/api/clusters), and keeps the filter counts, the list of
// organisations in view and the URL in step. Organisation text reaches the page
// only through textContent.
(function () {
  "use strict";

  var settings = JSON.parse(document.getElementById("mapapp-settings").textContent);
  var t = settings.i18n;
  var map = window.mapappMap; // made by the page's map shell (mapapp/mapdata/shell.py)
  var form = document.getElementById("filters");
  var statusBox = document.getElementById("map-status");
  var results = document.getElementById("results");
  var totalBox = document.getElementById("total");
  var KINDS = settings.kinds;
  // Categories by their index in the map's answers (0: none): code, label, colour, icon.
  var CATEGORIES = settings.categories.categories;
  var ICONS = settings.categories.icons;
  var SVG = "http://www.w3.org/2000/svg";
  var tiles = null;
  map.eachLayer(function (l) { if (l instanceof L.TileLayer) tiles = l; });
  window.mapappBasemap(map, tiles, settings.basemap);
  var layer = L.layerGroup().addTo(map);
  var zooming = false;
  map.on("zoomstart", function () { zooming = true; });
  map.on("zoomend", function () { zooming = false; });
  var viewRequest = null;
  var moveTimer = null;
  var firstDraw = true;
  var matching = null; // how many organisations match the filters anywhere (from /api/facets)
  // The marker whose popup is open survives redraws: opening a popup near an edge pans
  // the map, and the redraw after that pan must not take the popup away.
  var openMarker = null;
  var drawnSlugs = {};

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function format(template, n) { return template.replace("%(n)s", String(n)); }
  // A count in the catalogue's form for its plural category (one, few, many, other), the
  // number written as the server writes it: "5 organizacji" as on first load.
  var lang = settings.lang || document.documentElement.lang || "en";
  var pluralRules = new Intl.PluralRules(lang);
  var numbers = new Intl.NumberFormat(lang);
  // A day (YYYY-MM-DD) written as the visitor's language writes it: "6 décembre 2026".
  function longDate(day) {
    var parts = /^(\d{4})-(\d{2})-(\d{2})/.exec(day || "");
    if (!parts) return day || "";
    var moment = new Date(Date.UTC(+parts[1], +parts[2] - 1, +parts[3]));
    return new Intl.DateTimeFormat(lang, { dateStyle: "long", timeZone: "UTC" }).format(moment);
  }
  function counted(forms, n) {
    return (forms[pluralRules.select(n)] || forms.other).replace("%(n)s", numbers.format(n));
  }

  // Every API answer: refused unless 2xx, then read as JSON.
  function getJSON(url, options) {
    return fetch(url, options).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    });
  }

  // -- filters <-> URL <-> form ------------------------------------------------

  var locked = settings.locked || {};

  function filterParams() {
    var params = new URLSearchParams();
    var q = form.elements.q.value.trim();
    if (q) params.set("q", q);
    KINDS.forEach(function (kind) {
      var chosen = [];
      form.querySelectorAll('input[name="' + kind + '"]:checked').forEach(function (box) {
        chosen.push(box.value);
      });
      // A locked filter (embeds) can be narrowed, never left: nothing chosen means all of it.
      if (locked[kind]) {
        chosen = chosen.filter(function (v) { return locked[kind].indexOf(v) !== -1; });
        if (!chosen.length) chosen = locked[kind];
      }
      chosen.forEach(function (value) { params.append(kind, value); });
    });
    return params;
  }

  // An organisation's page, carrying the filters and the search so that its "back to the
  // map" link returns to this same view of the map.
  function pageLink(url) {
    var link = new URL(url, window.location.href);
    var params = filterParams();
    params.set("lang", settings.lang);
    return link.pathname + "?" + params.toString();
  }

  function linkOut(anchor) {
    if (settings.embed) {
      anchor.target = "_blank";
      anchor.rel = "noopener";
    }
    return anchor;
  }

  function tellParentOurHeight() {
    if (window.parent !== window) {
      // The content's own height (folium makes html and body fill the iframe, whatever it holds).
      var content = document.querySelector(".embed-layout") || document.body;
      var height = Math.ceil(content.getBoundingClientRect().height);
      window.parent.postMessage({ type: "mapapp:height", height: height }, "*");
    }
  }

  function setFormFromUrl() {
    var params = new URLSearchParams(window.location.search);
    form.elements.q.value = params.get("q") || "";
    KINDS.forEach(function (kind) {
      var chosen = params.getAll(kind).join(",").split(",");
      form.querySelectorAll('input[name="' + kind + '"]').forEach(function (box) {
        box.checked = chosen.indexOf(box.value) !== -1;
      });
    });
  }

  function withLang(params) {
    var copy = new URLSearchParams(params);
    copy.set("lang", settings.lang);
    return copy;
  }

  function apply() {
    showChosen();
    var before = new URLSearchParams(window.location.search).getAll("country").join(",");
    var params = filterParams();
    if (settings.embed) {
      // Inside an iframe the partner page's history is not ours to fill: replace.
      var current = new URLSearchParams(window.location.search);
      ["controls", "height", "lock", "lang"].forEach(function (key) {
        if (current.has(key)) params.set(key, current.get(key));
      });
      history.replaceState(null, "", "?" + params.toString());
      var full = filterParams();
      full.set("lang", settings.lang);
      document.getElementById("full-map").href = "/?" + full.toString();
    } else {
      var query = params.toString();
      history.pushState(null, "", query ? "?" + query : window.location.pathname);
      syncLinks();
    }
    refresh(params.getAll("country").join(",") !== before);
  }

  // The language switcher and the Map/Directory links carry the filters chosen here.
  function syncLinks() {
    var params = filterParams();
    document.querySelectorAll("nav.languages a[hreflang]").forEach(function (link) {
      var target = new URLSearchParams(params);
      target.set("lang", link.getAttribute("hreflang"));
      link.href = window.location.pathname + "?" + target.toString();
    });
    var directory = document.querySelector('nav.site-nav a[data-nav="directory"]');
    if (directory) {
      var query = params.toString();
      directory.href = directory.pathname + (query ? "?" + query : "");
    }
  }

  // -- facets: counts per value, total, bounds --------------------------------

  // The page arrives with the filter counts drawn, the selection's size, and the map
  // already at its first view (fitted to the selection by the map shell's script, before
  // any tile was asked for): only that view's clusters and list are left to ask for.
  function start() {
    var first = settings.initial;
    if (!first) return refresh(true);
    matching = first.total;
    loadView();
  }

  function refresh(fit) {
    document.body.dataset.mapReady = "loading";
    if (legend) legend.update();
    lastView = null; // new filters: the same view must be asked for again
    var params = filterParams();
    return getJSON(settings.api.facets + "?" + withLang(params))
      .then(function (body) {
        KINDS.forEach(function (kind) {
          var counts = {};
          (body.facets[kind] || []).forEach(function (o) { counts[o.value] = o.count; });
          form.querySelectorAll('input[name="' + kind + '"]').forEach(function (box) {
            var label = box.closest("label");
            if (!label) return; // a hidden choice (an embed without controls): no count to show
            var n = counts[box.value] || 0;
            label.querySelector(".count").textContent = n;
            label.hidden = n === 0 && !box.checked;
          });
        });
        matching = body.total;
        tellSheet(body.total);
        showDemoBanner(body.fictional);
        if (totalBox) totalBox.textContent = counted(t.total, body.total);
        // Without animation: the view asked for below is the one the map ends on.
        if (fit && settings.focus) {
          map.setView([settings.focus.lat, settings.focus.lon], settings.focusZoom, { animate: false });
        } else if (fit && body.bounds) {
          var b = body.bounds; // [minLon, minLat, maxLon, maxLat]
          fitTo([[b[1], b[0]], [b[3], b[2]]], settings.fit);
        }
        loadView();
      })
      .catch(showError);
  }

  // The demo banner says so only while the selection holds fictional organisations.
  function showDemoBanner(fictional) {
    var banner = document.querySelector(".fictional-banner, .embed-fictional");
    if (!banner && fictional && t.demoBanner) {
      var main = document.getElementById("main");
      if (!main) return;
      banner = document.createElement("p");
      banner.className = "fictional-banner";
      banner.setAttribute("role", "note");
      banner.textContent = t.demoBanner;
      main.parentNode.insertBefore(banner, main);
    }
    if (banner) banner.hidden = !fictional;
  }

  // Leaflet ignores a new view asked for during a zoom animation: wait for its end.
  function fitTo(bounds, options) {
    if (zooming) {
      map.once("zoomend", function () { fitTo(bounds, options); });
      return;
    }
    map.fitBounds(bounds, besideLegend(options || {}));
  }

  // An open legend covers the map's top right corner: fit the organisations beside it, on a
  // map wide enough to spare its width (a phone folds the legend instead).
  function besideLegend(options) {
    var box = legend && legend.getContainer();
    if (!box || !box.classList.contains("legend-open")) return options;
    var room = box.offsetWidth + 10;
    if (room > map.getSize().x / 3) return options;
    var even = options.padding || [0, 0];
    var out = L.extend({}, options, { paddingTopLeft: options.paddingTopLeft || even });
    var right = options.paddingBottomRight || even;
    out.paddingBottomRight = [Math.max(right[0], room + even[0]), right[1]];
    delete out.padding;
    return out;
  }

  // -- the view: clusters, points and the list ---------------------------------

  function viewBox() {
    var bounds = map.getBounds().pad(0.1);
    return [Math.max(bounds.getWest(), -180), Math.max(bounds.getSouth(), -90),
            Math.min(bounds.getEast(), 180), Math.min(bounds.getNorth(), 90)];
  }

  // The view widened to a fixed grid of tiles (mapindex.snap_bbox: TILE_PIXELS, whole
  // cells at every zoom), so that visitors a little apart ask the same URL and a browser or
  // a caching proxy answers them; null when the widened view would be clustered from
  // further away (wider than MAX_VIEW_PIXELS): the view is then asked for as it is.
  var TILE_PIXELS = 240, MAX_VIEW_PIXELS = [2560, 1600];

  function mercatorY(lat) {
    return Math.log(Math.tan(Math.PI / 4 + Math.max(-85, Math.min(85, lat)) * (Math.PI / 180) / 2));
  }

  function latitudeOf(y) {
    return (2 * Math.atan(Math.exp(y)) - Math.PI / 2) * (180 / Math.PI);
  }

  function snappedBox(box, zoom) {
    var world = 256 * Math.pow(2, zoom);
    var tileLon = 360 * TILE_PIXELS / world, tileY = 2 * Math.PI * TILE_PIXELS / world;
    var west = Math.max(-180, Math.floor((box[0] + 180) / tileLon) * tileLon - 180);
    var east = Math.min(180, Math.ceil((box[2] + 180) / tileLon) * tileLon - 180);
    var bottom = Math.floor(mercatorY(box[1]) / tileY) * tileY, top = Math.ceil(mercatorY(box[3]) / tileY) * tileY;
    var south = latitudeOf(bottom), north = latitudeOf(top);
    if (south <= -85) south = -90;
    if (north >= 85) north = 90;
    var snapped = [Math.floor(west * 1e5) / 1e5, Math.floor(south * 1e5) / 1e5,
                   Math.ceil(east * 1e5) / 1e5, Math.ceil(north * 1e5) / 1e5];
    var wide = (snapped[2] - snapped[0]) / 360 * world;
    var high = (mercatorY(snapped[3]) - mercatorY(snapped[1])) / (2 * Math.PI) * world;
    return wide <= MAX_VIEW_PIXELS[0] && high <= MAX_VIEW_PIXELS[1] ? snapped : null;
  }

  // The clusters are asked for on the tile grid; the list stays the view's own.
  function tiled(params) {
    var snapped = snappedBox(viewBox(), map.getZoom());
    var copy = new URLSearchParams(params);
    if (snapped) copy.set("bbox", snapped.map(String).join(","));
    return copy;
  }

  function viewParams() {
    var params = withLang(filterParams());
    params.set("bbox", viewBox().map(function (n) { return n.toFixed(5); }).join(","));
    params.set("zoom", String(map.getZoom()));
    return params;
  }

  // The page arrives with the first page of the list of every located organisation that
  // matches: the list of the first view, when that view shows all of them (the map opens
  // fitted to them; a narrow screen at the widest zoom may not show them all).
  var firstList = settings.initial && settings.initial.list;

  function firstViewList() {
    var list = firstList, b = settings.initial && settings.initial.bounds, box = viewBox();
    firstList = null;
    if (!list || (b && !(box[0] <= b[0] && box[1] <= b[1] && box[2] >= b[2] && box[3] >= b[3]))) return null;
    return Promise.resolve(list);
  }

  // One view is asked for once: the moveend that follows a fit, or a pan that comes back,
  // asks for what is already drawn or on its way, and is skipped.
  var lastView = null;

  function loadView() {
    var params = viewParams();
    var key = params.toString();
    if (key === lastView) return;
    lastView = key;
    var subscribe = document.getElementById("subscribe");
    if (subscribe) { // the subscription follows the view: its filters and area
      var follow = new URLSearchParams(params);
      follow.delete("zoom");
      subscribe.href = subscribe.pathname + "?" + follow.toString();
    }
    document.body.dataset.mapReady = "loading";
    if (viewRequest) viewRequest.abort();
    viewRequest = new AbortController();
    var signal = viewRequest.signal;
    // The clusters and the list of the view, asked for together.
    var list = firstViewList() || loadList(params, signal);
    list.catch(function () {}); // its failure is reported below, after the clusters'
    getJSON(settings.api.clusters + "?" + tiled(params), { signal: signal })
      .then(function (body) { draw(body); return list; })
      .then(function (body) {
        showList(body);
        document.body.dataset.mapReady = "true";
        document.body.dataset.readyMs = String(Math.round(performance.now()));
        tellParentOurHeight();
      })
      .catch(function (error) {
        if (error.name !== "AbortError") { lastView = null; showError(error); }
      });
  }

  // -- categories: markers, rings, the legend ---------------------------------

  function category(index) {
    return CATEGORIES[index] || CATEGORIES[0];
  }

  function colourOf(index) {
    var colour = category(index).colour;
    return /^#[0-9a-f]{6}$/i.test(colour) ? colour : CATEGORIES[0].colour;
  }

  // A category's icon as an SVG element (Tabler's paths, stroked in white), built once per
  // category and cloned for each marker.
  var iconTemplates = {};

  function iconFor(index) {
    var name = category(index).icon;
    if (!iconTemplates[name]) {
      var svg = document.createElementNS(SVG, "svg");
      svg.setAttribute("viewBox", "0 0 24 24");
      svg.setAttribute("aria-hidden", "true");
      svg.setAttribute("focusable", "false");
      svg.setAttribute("class", "cat-icon");
      (ICONS[name] || []).forEach(function (d) {
        var path = document.createElementNS(SVG, "path");
        path.setAttribute("d", d);
        svg.appendChild(path);
      });
      iconTemplates[name] = svg;
    }
    return iconTemplates[name].cloneNode(true);
  }

  // A pin in the category's colour with its icon: the icon tells categories apart where the
  // colours do not (for colour-blind visitors); the name stays the marker's title.
  function pointIcon(index) {
    var box = el("div", "cat-pin");
    box.style.setProperty("--cat", colourOf(index));
    box.appendChild(iconFor(index));
    return L.divIcon({ html: box, className: "cat-marker", iconSize: L.point(30, 36), iconAnchor: L.point(15, 36),
                       popupAnchor: L.point(0, -34) });
  }

  var REST_COLOUR = "#d1d5db"; // the part of a cluster in categories it does not name

  // The ring of a cluster: one conic gradient on the cluster's own element, each top-level
  // category's share of it in that category's colour (no element per member).
  function ring(count, mix) {
    var stops = [], from = 0;
    (mix || []).forEach(function (pair) {
      var to = from + pair[1] / count * 100;
      stops.push(colourOf(pair[0]) + " " + from.toFixed(2) + "% " + to.toFixed(2) + "%");
      from = to;
    });
    if (from < 99.99) stops.push(REST_COLOUR + " " + from.toFixed(2) + "% 100%");
    return "conic-gradient(" + stops.join(", ") + ")";
  }

  function clusterIcon(count, mix) {
    var size = count < 10 ? "small" : count < 100 ? "medium" : "large";
    var box = el("div");
    box.style.background = ring(count, mix);
    box.appendChild(el("span", null, count));
    var width = [40, 40, 40, 44, 50, 56, 62][Math.min(6, String(count).length)]; // room for the count
    return L.divIcon({ html: box, className: "marker-cluster marker-cluster-" + size + " cat-cluster",
                       iconSize: L.point(width, width) });
  }

  // Show only one category, as choosing it alone in the filter panel does (the URL and the
  // panel follow); chosen again, every category again.
  function showOnly(code) {
    var boxes = form.querySelectorAll('input[name="theme"]');
    var only = true, found = false;
    boxes.forEach(function (box) {
      if (box.value === code) found = true;
      if (box.checked !== (box.value === code)) only = false;
    });
    if (!found) { // a category the panel does not offer here (an embed without controls)
      var extra = document.createElement("input");
      extra.type = "checkbox";
      extra.name = "theme";
      extra.value = code;
      extra.hidden = true;
      form.appendChild(extra);
      boxes = form.querySelectorAll('input[name="theme"]');
      only = false;
    }
    boxes.forEach(function (box) { box.checked = !only && box.value === code; });
    apply();
  }

  function chosenThemes() {
    return new URLSearchParams(window.location.search).getAll("theme").join(",").split(",").filter(Boolean);
  }

  var Legend = L.Control.extend({
    options: { position: "topright" },
    onAdd: function () {
      var box = el("section", "leaflet-control map-legend");
      box.setAttribute("aria-label", t.legend);
      var toggle = box.appendChild(el("button", "legend-toggle", t.legend));
      toggle.type = "button";
      toggle.setAttribute("aria-controls", "map-legend-list");
      var body = box.appendChild(el("div", "legend-body"));
      body.id = "map-legend-list";
      var list = body.appendChild(el("ul", "legend-list"));
      var children = {};
      CATEGORIES.forEach(function (c, index) {
        if (!index || !c.present) return;
        var item = el("li", c.parent ? "legend-child" : "legend-parent");
        var entry = item.appendChild(el("button", "legend-entry"));
        entry.type = "button";
        entry.dataset.code = c.code;
        var swatch = entry.appendChild(el("span", "legend-swatch"));
        swatch.style.setProperty("--cat", colourOf(index));
        swatch.appendChild(iconFor(index));
        entry.appendChild(el("span", "legend-label", c.label));
        entry.addEventListener("click", function () { showOnly(c.code); });
        if (c.parent && children[c.parent]) {
          children[c.parent].appendChild(item);
        } else {
          list.appendChild(item);
          children[index] = item.appendChild(el("ul", "legend-children"));
        }
      });
      if (CATEGORIES[0].present) { // no filter for "none": a key, not a button
        var none = list.appendChild(el("li", "legend-none"));
        var swatch = none.appendChild(el("span", "legend-swatch"));
        swatch.style.setProperty("--cat", colourOf(0));
        swatch.appendChild(iconFor(0));
        none.appendChild(el("span", "legend-label", CATEGORIES[0].label));
      }
      list.querySelectorAll(".legend-children").forEach(function (ul) { if (!ul.children.length) ul.remove(); });
      body.appendChild(el("p", "legend-hint", t.legendHint));
      // Folded on a phone or a small frame: the map comes first there.
      var small = map.getSize().x <= 600 || map.getSize().y <= 360;
      function setOpen(open) {
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
        body.hidden = !open;
        box.classList.toggle("legend-open", open);
      }
      setOpen(!small);
      toggle.addEventListener("click", function () {
        setOpen(toggle.getAttribute("aria-expanded") !== "true");
      });
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      this.entries = box.querySelectorAll(".legend-entry");
      this.update();
      return box;
    },
    // Which entry is the one category shown (pressed), from the URL.
    update: function () {
      var chosen = chosenThemes();
      (this.entries || []).forEach(function (entry) {
        entry.setAttribute("aria-pressed", chosen.length === 1 && chosen[0] === entry.dataset.code ? "true" : "false");
      });
    }
  });
  var legend = CATEGORIES.some(function (c, index) { return index && c.present; }) ? new Legend().addTo(map) : null;

  function draw(body) {
    var focused = focusedMarkerKey();
    layer.eachLayer(function (l) { if (l !== openMarker) layer.removeLayer(l); });
    drawnSlugs = {};
    body.clusters.forEach(function (c) {
      var marker = L.marker([c[0], c[1]], { icon: clusterIcon(c[2], c[4]), title: format(t.cluster, c[2]),
                                            alt: format(t.cluster, c[2]), keyboard: true, count: c[2] });
      function zoomIn() {
        var b = c[3];
        zoomIntoCluster(L.latLngBounds([[b[1], b[0]], [b[3], b[2]]]));
      }
      marker.on("click", zoomIn);
      marker.on("add", function () {
        // Enter or Space on a focused cluster zooms to it, as a click does.
        nameCluster(marker, c[2]);
        marker.getElement().addEventListener("keydown", function (event) {
          if (event.key === " " || event.key === "Enter") {
            event.preventDefault();
            keepFocusOnMap();
            zoomIn();
          }
        });
      });
      layer.addLayer(marker);
    });
    body.points.forEach(function (p) {
      drawnSlugs[p[0]] = true;
      if (openMarker && openMarker.options.slug === p[0]) return; // already there, popup open
      // An entry not confirmed for long is faded, and says so to those who cannot see it.
      var label = p[4] ? p[1] + " (" + t.staleMarker + ")" : p[1];
      var marker = L.marker([p[2], p[3]], { icon: pointIcon(p[5]), title: label, alt: label, slug: p[0],
                                            opacity: p[4] ? 0.45 : 1 });
      if (p[4]) marker.on("add", function () { marker.getElement().classList.add("stale"); });
      marker.on("add", function () { marker.getElement().setAttribute("aria-label", label); });
      if (onPhone()) { // a bottom card instead of a popup squeezed into the map
        marker.on("click", function () { showCard(p[0], p[1], marker); });
        layer.addLayer(marker);
        return;
      }
      var width = Math.min(300, map.getSize().x - 60);
      var content = null; // made once: Leaflet asks again on every update()
      marker.bindPopup(function () { return content || (content = popupFor(p[0], p[1], marker)); },
                       { minWidth: Math.min(200, width), maxWidth: width, autoPanPaddingTopLeft: L.point(50, 20),
                         autoPanPaddingBottomRight: L.point(20, 20) });
      marker.on("popupopen", function () { openMarker = marker; focusIntoPopup(marker); });
      marker.on("popupclose", function () {
        focusBackToMarker(marker);
        if (openMarker !== marker) return;
        openMarker = null;
        if (!drawnSlugs[p[0]]) layer.removeLayer(marker); // left over from an earlier view
      });
      layer.addLayer(marker);
    });
    if (focused) restoreFocus(focused);
    statusBox.classList.remove("error");
    if (firstDraw) {
      firstDraw = false;
      document.body.dataset.firstDrawMs = String(Math.round(performance.now()));
    }
  }

  function popupFor(slug, name, marker) {
    var box = el("div", "org-popup");
    var title = el("a", "org-popup-name", name);
    title.href = pageLink(settings.page.replace("SLUG", encodeURIComponent(slug)));
    linkOut(title);
    box.appendChild(el("strong")).appendChild(title);
    var details = box.appendChild(el("div", "org-popup-place", t.loading));
    getJSON(settings.api.organisation.replace("SLUG", encodeURIComponent(slug)) + "?lang=" + settings.lang)
      .then(function (org) {
        title.textContent = org.name;
        title.href = pageLink(org.url);
        details.textContent = [org.city_name || org.city, org.country_name].filter(Boolean).join(", ");
        var picture = (org.pictures || [])[0];  // the logo when there is one, else the first photo
        if (picture) {
          var img = el("img", "org-popup-picture");
          img.src = picture.thumb;
          img.alt = picture.alt;
          img.addEventListener("load", function () {
            var p = marker.getPopup();
            if (p && p.isOpen()) { p.update(); afterPopupUpdate(marker); }
          });
          box.insertBefore(img, details);
        }
        if (org.theme_labels.length) {
          var list = el("ul", "org-popup-themes");
          org.theme_labels.forEach(function (label) { list.appendChild(el("li", null, label)); });
          box.appendChild(list);
        }
        if (org.popup_fields && org.popup_fields.length) {
          // The network's fields marked "show in popups": text only, never markup.
          var fields = el("dl", "org-popup-fields");
          org.popup_fields.forEach(function (f) {
            fields.appendChild(el("dt", null, f.label));
            fields.appendChild(el("dd", null, f.text));
          });
          box.appendChild(fields);
        }
        addPopupDetails(box, org, "org-popup", false);
        if (org.fictional) box.appendChild(el("div", "org-popup-fictional", t.fictional));
        if (org.stale) box.appendChild(el("div", "org-popup-stale", format(t.stale, longDate(org.checked))));
        var suggest = linkOut(el("a", "org-popup-suggest", t.suggest));
        suggest.href = pageLink(settings.suggest.replace("SLUG", encodeURIComponent(org.slug)));
        box.appendChild(el("div")).appendChild(suggest);
      })
      .catch(function () { details.textContent = t.error; })
      .then(function () {
        // The details made the popup taller: lay it out again, and pan so that all of it shows.
        var popup = marker.getPopup();
        if (popup && popup.isOpen()) { popup.update(); afterPopupUpdate(marker); }
        box.dataset.loaded = "true";
      });
    return box;
  }

  // -- phones: a bottom card for the marker tapped --------------------------------

  var PHONE = window.matchMedia ? window.matchMedia("(max-width: 37.5rem)") : null;
  var card = null, cardMarker = null;

  function onPhone() { return !settings.embed && PHONE && PHONE.matches; }

  function closeCard(back) {
    if (!card || card.hidden) return;
    card.hidden = true;
    var marker = cardMarker;
    cardMarker = null;
    if (back && marker && marker.getElement()) marker.getElement().focus();
  }

  // The card below the map: the organisation's name (a link to its page), its town, its
  // categories, what the popup shows; a close button, Escape and a swipe down put it away.
  function showCard(slug, name, marker) {
    if (!card) {
      card = el("section", "org-card");
      card.setAttribute("aria-labelledby", "org-card-name");
      var close = card.appendChild(el("button", "org-card-close", "×"));
      close.type = "button";
      close.setAttribute("aria-label", t.closeCard);
      close.addEventListener("click", function () { closeCard(true); });
      card.addEventListener("keydown", function (event) {
        if (event.key === "Escape") closeCard(true);
      });
      var startY = null;
      card.addEventListener("touchstart", function (event) { startY = event.touches[0].clientY; }, { passive: true });
      card.addEventListener("touchend", function (event) {
        if (startY !== null && event.changedTouches[0].clientY - startY > 60) closeCard(false);
        startY = null;
      });
      L.DomEvent.disableClickPropagation(card);
      map.getContainer().parentNode.appendChild(card);
      map.on("click", function () { closeCard(false); });
    }
    card.querySelectorAll(":scope > :not(.org-card-close)").forEach(function (n) { n.remove(); });
    delete card.dataset.loaded;
    card.hidden = false;
    cardMarker = marker;
    var heading = card.appendChild(el("h2", "org-card-title"));
    heading.id = "org-card-name";
    var link = heading.appendChild(el("a", null, name));
    link.href = pageLink(settings.page.replace("SLUG", encodeURIComponent(slug)));
    var place = card.appendChild(el("p", "org-card-place", t.loading));
    link.focus({ preventScroll: true });
    getJSON(settings.api.organisation.replace("SLUG", encodeURIComponent(slug)) + "?lang=" + settings.lang)
      .then(function (org) {
        if (cardMarker !== marker) return; // another marker tapped meanwhile
        link.textContent = org.name;
        link.href = pageLink(org.url);
        place.textContent = [org.city_name || org.city, org.country_name].filter(Boolean).join(", ");
        var picture = (org.pictures || [])[0];  // as in the popup: the logo, else the first photo
        if (picture) {
          var img = el("img", "org-card-picture");
          img.src = picture.thumb;
          img.alt = picture.alt;
          card.insertBefore(img, place);
        }
        if (org.theme_labels.length) {
          var list = card.appendChild(el("ul", "org-card-themes"));
          org.theme_labels.forEach(function (label) { list.appendChild(el("li", null, label)); });
        }
        addPopupDetails(card, org, "org-card", true);
        if (org.fictional) card.appendChild(el("p", "org-card-note", t.fictional));
        if (org.stale) card.appendChild(el("p", "org-card-note", format(t.stale, org.checked)));
      })
      .catch(function () { place.textContent = t.error; })
      .then(function () { if (cardMarker === marker) card.dataset.loaded = "true"; });
  }

  // The filter sheet's "Show N organisations" follows the count of the filters chosen.
  function tellSheet(total) {
    if (window.mapappSheet) window.mapappSheet.setCount(total);
  }

  function loadList(params, signal) {
    var listParams = new URLSearchParams(params);
    listParams.delete("zoom");
    listParams.set("limit", String(settings.listSize));
    return getJSON(settings.api.organisations + "?" + listParams, { signal: signal });
  }

  // The list beside the map, once the clusters of the same view are drawn.
  function showList(body) {
    results.replaceChildren();
    body.items.forEach(function (org) {
      var item = el("li");
      var link = linkOut(el("a", null, org.name));
      link.href = pageLink(org.url);
      item.appendChild(link);
      var place = [org.city_name || org.city, org.country_name].filter(Boolean).join(", ");
      if (place) item.appendChild(el("span", "place", place));
      results.appendChild(item);
    });
    var n = body.total;
    announce(n === 0 ? (matching === 0 ? t.noMatch : t.noneInView) : counted(t.inView, n));
    if (n > body.items.length) results.appendChild(el("li", "more", t.more));
  }

  // -- keyboard and screen readers ----------------------------------------------

  // A cluster is a button named by what it holds and does ("7 organisations, zoom in"),
  // not by the bare number drawn in it.
  function nameCluster(marker, count) {
    var name = counted(t.clusterForms, count);
    var element = marker.getElement();
    element.setAttribute("aria-label", name);
    element.setAttribute("title", name);
    element.setAttribute("role", "button");
  }

  // A cluster zooms to its members; when they already fit the view (the server groups them
  // until the next zoom), one level closer on their middle, so that a press always zooms in.
  function zoomIntoCluster(bounds) {
    if (map.getBoundsZoom(bounds, false, L.point(80, 80)) > map.getZoom() || zooming) {
      fitTo(bounds, { padding: [40, 40] });
    } else {
      map.setView(bounds.getCenter(), Math.min(map.getZoom() + 1, map.getMaxZoom()));
    }
  }

  // A marker's identity across redraws: an organisation's slug, a cluster's place and size.
  function markerKey(marker) {
    if (marker.options.slug) return "p:" + marker.options.slug;
    var at = marker.getLatLng();
    return "c:" + at.lat + "," + at.lng + "," + marker.options.count;
  }

  // The marker that has the keyboard focus, if one has (a redraw is about to replace it).
  function focusedMarkerKey() {
    var found = null;
    layer.eachLayer(function (l) {
      if (l.getElement && l.getElement() === document.activeElement) found = { key: markerKey(l), at: l.getLatLng() };
    });
    return found;
  }

  // After a redraw the focus goes back to the same marker (the same organisation, or the
  // cluster drawn nearest where the focused one was: a cluster's middle moves with the view),
  // or stays on the map. Leaflet pans a focused marker into view, which redraws the view:
  // without this, the focus would drop to the page's body at such a Tab.
  function restoreFocus(focused) {
    var target = null, best = 80; // px
    var from = map.latLngToLayerPoint(focused.at);
    layer.eachLayer(function (l) {
      var key = markerKey(l);
      if (key === focused.key) { target = l; best = -1; return; }
      if (best < 0 || focused.key.charAt(0) !== "c") return; // a cluster: its nearest successor
      var d = map.latLngToLayerPoint(l.getLatLng()).distanceTo(from);
      if (d < best) { best = d; target = l; }
    });
    var element = target && target.getElement();
    if (document.activeElement !== element) (element || map.getContainer()).focus({ preventScroll: true });
  }

  // The cluster pressed is gone with the redraw: focus stays on the map (its container,
  // whose next Tab reaches the markers of the view it zoomed to), not on the page's body.
  function keepFocusOnMap() {
    map.getContainer().focus({ preventScroll: true });
  }

  // A popup opened from the keyboard takes the focus (its first link); closed, it gives it
  // back to its marker. Opened with the mouse, the focus is left where it is.
  var popupFromKeyboard = false;
  map.getContainer().addEventListener("keydown", function (event) {
    if (event.key === "Enter" || event.key === " ") {
      popupFromKeyboard = !!(event.target.classList && event.target.classList.contains("leaflet-marker-icon"));
    }
  }, true);
  map.getContainer().addEventListener("mousedown", function () { popupFromKeyboard = false; }, true);
  // Escape from inside a popup closes it (Leaflet's own Escape listens only while the map
  // container itself has the focus).
  map.getContainer().addEventListener("keydown", function (event) {
    if (event.key === "Escape" && openMarker && openMarker.isPopupOpen()) {
      event.preventDefault();
      openMarker.closePopup();
    }
  });

  function focusIntoPopup(marker) {
    if (!popupFromKeyboard) return;
    var popup = marker.getPopup();
    function focusName() {
      var target = popup.getElement() && popup.getElement().querySelector(".org-popup-name");
      if (target) target.focus({ preventScroll: true });
    }
    focusName();
    marker.refocusPopup = focusName;
  }

  // Leaflet lays the popup out again once its details arrive, putting its content back in
  // place: the focus that was in it falls to the page's body, and is put back.
  function afterPopupUpdate(marker) {
    if (popupFromKeyboard && marker.refocusPopup && document.activeElement === document.body) marker.refocusPopup();
  }

  function focusBackToMarker(marker) {
    var popup = marker.getPopup();
    var inside = popup && popup.getElement() && popup.getElement().contains(document.activeElement);
    if ((inside || document.activeElement === document.body) && popupFromKeyboard && marker.getElement()) {
      marker.getElement().focus({ preventScroll: true });
    }
  }

  // The live region speaks after each move only when what it says changes.
  function announce(sentence) {
    if (statusBox.textContent !== sentence) statusBox.textContent = sentence;
  }

  function nameTheMap() {
    var container = map.getContainer();
    container.setAttribute("role", "region");
    container.setAttribute("aria-label", t.mapRegion);
    container.setAttribute("aria-roledescription", t.mapRole || "map");
  }

  // What a visitor needs to decide whether to open the page (in the popup and the phone's
  // card): a line of the description, the needs and offers as icons, and the nearest few
  // possible partners. Everything stored is set as text, never as markup.
  function addPopupDetails(box, org, prefix, labelsShown) {
    if (org.description) box.appendChild(el("p", prefix + "-description", org.description));
    [["needs", t.needsLabel], ["offers", t.offersLabel]].forEach(function (pair) {
      var items = org[pair[0]] || [];
      if (items.length) box.appendChild(resourceRow(pair[0], pair[1], items, labelsShown));
    });
    if (org.partners && org.partners.length) box.appendChild(partnersBlock(org.partners));
  }

  // A need's or offer's icon (Tabler's paths, sent once with the page): decorative, the
  // label beside it is what a screen reader reads.
  var RESOURCE_ICONS = settings.resourceIcons || {};

  function resourceIcon(name) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "resource-icon");
    (RESOURCE_ICONS[name] || []).forEach(function (d) {
      var path = document.createElementNS(SVG, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }

  // "Needs: [icon] [icon]": the group named in words (and drawn differently from the other,
  // not only in another colour), each item's label a tooltip and text for screen readers
  // ("Needs: Funding, Volunteers"), or visible beside its icon where there is no hover.
  function resourceRow(kind, label, items, labelsShown) {
    var line = el("p", "resource-row resource-" + kind);
    line.appendChild(el("span", "resource-group", label));
    line.appendChild(document.createTextNode(" "));
    items.forEach(function (item, i) {
      var chip = line.appendChild(el("span", "resource-item"));
      chip.title = item.label;
      chip.appendChild(resourceIcon(item.icon));
      chip.appendChild(el("span", labelsShown ? "resource-label" : "visually-hidden", item.label));
      if (i < items.length - 1) line.appendChild(el("span", "visually-hidden", ", "));
    });
    return line;
  }

  function lowerFirst(text) {
    return text.charAt(0).toLocaleLowerCase(lang) + text.slice(1);
  }

  // "Possible partners: X (offers funding)": links to their pages on this site.
  function partnersBlock(partners) {
    var block = el("div", "partners");
    block.appendChild(el("p", "resource-group", t.partnersLabel));
    var list = block.appendChild(el("ul", "partner-list"));
    partners.forEach(function (partner) {
      var item = list.appendChild(el("li"));
      var link = linkOut(el("a", "partner-link", partner.name));
      link.href = pageLink(partner.url);
      item.appendChild(link);
      var what = [];
      [["offers", t.partnerOffers], ["needs", t.partnerNeeds]].forEach(function (pair) {
        var labels = (partner[pair[0]] || []).map(function (r) { return lowerFirst(r.label); });
        if (labels.length) what.push(format(pair[1], labels.join(", ")));
      });
      if (what.length) item.appendChild(document.createTextNode(" (" + what.join("; ") + ")"));
    });
    return block;
  }

  // -- the panel's own state: how many values each heading has chosen, "clear" ---------

  // Each filter heading says how many of its values are chosen ("Country (2)"), and "Clear
  // filters" shows as soon as one is, whether it came from the URL or the panel.
  function showChosen() {
    var any = !!form.elements.q.value.trim();
    form.querySelectorAll("details.facet").forEach(function (facet) {
      var n = facet.querySelectorAll("input[type=checkbox]:checked").length;
      var count = facet.querySelector(".chosen-count");
      if (count) {
        count.textContent = "(" + n + ")";
        count.hidden = n === 0;
      }
      if (n) any = true;
    });
    var clear = form.querySelector("a.clear");
    if (clear) clear.hidden = !any;
  }

  // Clearing the filters on the map clears them here: the map stays, showing everything
  // (an embed's locked filters stay, as filterParams keeps them).
  function clearFilters(event) {
    event.preventDefault();
    form.elements.q.value = "";
    form.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) { box.checked = false; });
    apply();
    form.elements.q.focus();
  }

  function showError(error) {
    statusBox.textContent = t.error + " (" + (error && error.message) + ")";
    statusBox.classList.add("error");
    document.body.dataset.mapReady = "error";
  }

  // -- events ------------------------------------------------------------------

  form.addEventListener("change", function (event) {
    if (event.target.type === "checkbox") apply();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    apply();
  });
  window.addEventListener("popstate", function () { setFormFromUrl(); showChosen(); syncLinks(); refresh(true); });
  var clearLink = form.querySelector("a.clear");
  if (clearLink) clearLink.addEventListener("click", clearFilters);
  map.on("moveend", function () {
    clearTimeout(moveTimer);
    moveTimer = setTimeout(loadView, 120);
  });
  var toggle = document.querySelector(".panel-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var open = document.body.classList.toggle("filters-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      tellParentOurHeight();
    });
  }
  window.addEventListener("resize", tellParentOurHeight);

  nameTheMap();
  // Printed, the map takes the page's width: Leaflet lays out the same view at that size.
  window.addEventListener("beforeprint", function () { map.invalidateSize({ animate: false }); });
  statusBox.textContent = t.loading;
  setFormFromUrl();
  showChosen();
  start();
})();

// A category's form: the colour picker and its hex text kept in step, and the icon picker
// (search box → icons drawn from their path data → a button per icon that fills the icon
// field). Without JavaScript the colour and icon stay plain text fields the server checks.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var picker = document.getElementById("colour-picker");
  var text = document.getElementById("colour");
  if (picker && text) {
    picker.addEventListener("input", function () { text.value = picker.value; });
    text.addEventListener("input", function () {
      if (/^#[0-9a-fA-F]{6}$/.test(text.value.trim())) { picker.value = text.value.trim().toLowerCase(); }
    });
  }
  var box = document.getElementById("icon-picker");
  if (!box) { return; }
  var field = document.getElementById("icon");
  var preview = document.getElementById("icon-preview");
  var query = document.getElementById("icon-q");
  var results = document.getElementById("icon-results");
  var status = document.getElementById("icon-status");
  document.getElementById("icon-search").hidden = false;

  function draw(paths, size) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("width", size);
    svg.setAttribute("height", size);
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("fill", "none");
    svg.setAttribute("stroke", "currentColor");
    svg.setAttribute("stroke-width", "2");
    svg.setAttribute("stroke-linecap", "round");
    svg.setAttribute("stroke-linejoin", "round");
    svg.setAttribute("aria-hidden", "true");
    paths.forEach(function (d) {
      var path = document.createElementNS(SVG, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }

  function choose(icon) {
    field.value = icon.name;
    preview.replaceChildren(draw(icon.paths, 28));
    results.querySelectorAll("button").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.name === icon.name));
    });
    status.textContent = status.dataset.chosen.replace("{name}", icon.name);
  }

  function show(found) {
    results.replaceChildren();
    found.forEach(function (icon) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "icon-choice";
      button.dataset.name = icon.name;
      button.title = icon.name;
      button.setAttribute("aria-label", icon.name);
      button.setAttribute("aria-pressed", String(icon.name === field.value));
      button.appendChild(draw(icon.paths, 24));
      button.addEventListener("click", function () { choose(icon); });
      results.appendChild(button);
    });
    status.textContent = found.length ? status.dataset.found.replace("{n}", found.length) : status.dataset.none;
  }

  var timer = null;
  var asked = 0;
  function search() {
    var number = ++asked;
    fetch(box.dataset.search + "?q=" + encodeURIComponent(query.value), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (answer) { if (number === asked) { show(answer.icons || []); } });
  }
  query.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  query.addEventListener("keydown", function (e) {
    if (e.key === "Enter") { e.preventDefault(); clearTimeout(timer); search(); }
    if (e.key === "ArrowDown" && results.firstChild) { e.preventDefault(); results.firstChild.focus(); }
  });
  // Arrow keys move between the icons as in a grid of buttons; Tab leaves it.
  results.addEventListener("keydown", function (e) {
    var buttons = Array.prototype.slice.call(results.querySelectorAll("button"));
    var at = buttons.indexOf(document.activeElement);
    if (at < 0) { return; }
    var step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
    if (!step) { return; }
    e.preventDefault();
    var next = buttons[at + step];
    if (next) { next.focus(); } else if (step < 0) { query.focus(); }
  });
})();

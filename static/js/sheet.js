// Phones (≤ 600 px), on the map and the directory: the filters open in a sheet, a dialog
// from the "Filters (n)" button (focus kept inside, Escape closes), whose last button says
// how many organisations the chosen filters give ("Show 76 organisations", in the plural
// form of the page's language) and closes it. On the map a switch shows either the map or
// the list, each with the whole screen. Wider screens keep the side panel as it is.
(function () {
  "use strict";
  var PHONE = window.matchMedia("(max-width: 37.5rem)");
  var form = document.getElementById("filters");
  var sheet = document.getElementById("filter-sheet");
  var opener = form && form.querySelector(".sheet-opener");
  if (!sheet || !opener) return;
  var show = sheet.querySelector(".sheet-show");
  var forms = JSON.parse(show.dataset.forms);
  var lang = document.documentElement.lang || "en";
  var plural = new Intl.PluralRules(lang);
  var numbers = new Intl.NumberFormat(lang);
  var onMap = document.body.classList.contains("map-page");
  sheet.classList.add("sheet-ready");
  opener.hidden = false;

  function setCount(total) {
    var text = forms[plural.select(total)] || forms.other;
    show.textContent = text.replace("%(n)s", numbers.format(total));
    show.dataset.count = String(total);
  }

  function chosen() { return form.querySelectorAll(".filter-sheet input[type=checkbox]:checked").length; }

  function labelOpener() {
    var n = chosen();
    opener.textContent = n ? opener.dataset.labelCount.replace("%(n)s", String(n)) : opener.dataset.label;
  }

  function focusable() {
    return Array.prototype.filter.call(
      sheet.querySelectorAll("button, a[href], input, summary, [tabindex]:not([tabindex='-1'])"),
      function (node) { return node.offsetParent !== null || node === document.activeElement; });
  }

  function isOpen() { return sheet.classList.contains("open"); }

  function open() {
    sheet.classList.add("open");
    sheet.setAttribute("role", "dialog");
    sheet.setAttribute("aria-modal", "true");
    sheet.setAttribute("aria-labelledby", "filter-sheet-title");
    opener.setAttribute("aria-expanded", "true");
    document.body.classList.add("sheet-open");
    var first = sheet.querySelector("summary");
    (first || show).focus();
  }

  function close() {
    if (!isOpen()) return;
    sheet.classList.remove("open");
    sheet.removeAttribute("role");
    sheet.removeAttribute("aria-modal");
    sheet.removeAttribute("aria-labelledby");
    opener.setAttribute("aria-expanded", "false");
    document.body.classList.remove("sheet-open");
    labelOpener();
    opener.focus();
  }

  opener.addEventListener("click", open);
  sheet.querySelector(".sheet-close").addEventListener("click", close);
  sheet.addEventListener("keydown", function (event) {
    if (!isOpen()) return;
    if (event.key === "Escape") { event.preventDefault(); close(); return; }
    if (event.key !== "Tab") return;
    var nodes = focusable();
    if (!nodes.length) return;
    var first = nodes[0], last = nodes[nodes.length - 1];
    if (event.shiftKey && document.activeElement === first) { event.preventDefault(); last.focus(); }
    else if (!event.shiftKey && document.activeElement === last) { event.preventDefault(); first.focus(); }
  });
  // "Show N organisations" submits the form: the map applies it at once (map.js), the
  // directory loads its page; either way the sheet is done.
  form.addEventListener("submit", function () { if (isOpen()) close(); });
  PHONE.addEventListener("change", function () { if (!PHONE.matches) close(); });
  form.addEventListener("change", function (event) {
    if (event.target.type !== "checkbox") return;
    labelOpener();
    if (!onMap) countForDirectory(); // the map asks /api/facets itself and tells setCount
  });

  // The directory asks the same question as the map for its count.
  var pending = null;
  function countForDirectory() {
    var params = new URLSearchParams(new FormData(form));
    if (pending) pending.abort();
    pending = new AbortController();
    fetch(sheet.dataset.countUrl + "?" + params.toString(), { signal: pending.signal })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (body) { setCount(body.total); })
      .catch(function () { /* the button keeps its last count; the page load will tell */ });
  }

  window.mapappSheet = { setCount: setCount, close: close };

  // -- the map page's switch: the map or the list, each full height -------------------
  var switcher = document.querySelector(".view-switch");
  if (!switcher) return;
  switcher.hidden = false;
  var buttons = switcher.querySelectorAll("button");
  function showView(view) {
    document.body.classList.toggle("phone-list", view === "list");
    buttons.forEach(function (b) { b.setAttribute("aria-pressed", b.dataset.view === view ? "true" : "false"); });
    if (view === "map" && window.mapappMap) window.mapappMap.invalidateSize();
    window.scrollTo(0, 0);
  }
  buttons.forEach(function (b) {
    b.addEventListener("click", function () { showView(b.dataset.view); });
  });
})();

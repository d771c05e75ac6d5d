// Every page: the site's introduction (map, directory) can be closed, and stays closed in
// this browser until its text changes (the key holds a digest of the text).
(function () {
  "use strict";
  var intro = document.getElementById("site-intro");
  if (!intro) return;
  var text = intro.querySelector(".site-intro-text").textContent;
  var hash = 0;
  for (var i = 0; i < text.length; i++) hash = (hash * 31 + text.charCodeAt(i)) | 0;
  var key = "mapapp.introClosed";
  var stored = null;
  try { stored = window.localStorage.getItem(key); } catch (e) { /* storage refused: show it */ }
  if (stored === String(hash)) {
    intro.hidden = true;
    return;
  }
  var close = intro.querySelector(".site-intro-close");
  close.hidden = false;
  close.addEventListener("click", function () {
    intro.hidden = true;
    try { window.localStorage.setItem(key, String(hash)); } catch (e) { /* closed for this page only */ }
    var main = document.getElementById("main");
    if (main) { main.setAttribute("tabindex", "-1"); main.focus(); }
    if (window.mapappMap) window.mapappMap.invalidateSize();
  });
})();

// Every page, on a phone: the header folds to one line, its navigation behind the "Menu"
// button (Escape closes it, focus back on the button), and the demo note can be read in
// full and put away.
(function () {
  "use strict";
  var header = document.querySelector(".site-header");
  var button = header && header.querySelector(".menu-toggle");
  if (button) {
    header.classList.add("has-menu");
    button.hidden = false;
    var setOpen = function (open) {
      header.classList.toggle("menu-open", open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
    };
    button.addEventListener("click", function () { setOpen(button.getAttribute("aria-expanded") !== "true"); });
    header.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("menu-open")) {
        setOpen(false);
        button.focus();
      }
    });
  }
  var banner = document.querySelector(".fictional-banner");
  var close = banner && banner.querySelector(".banner-close");
  // A phone shows the note on one line, cut short: "More" unfolds the whole of it, "Less"
  // folds it back. Offered only while the line is actually cut.
  var more = banner && banner.querySelector(".banner-more");
  var text = banner && banner.querySelector(".banner-text");
  if (more && text) {
    var offer = function () {
      if (more.getAttribute("aria-expanded") !== "true") more.hidden = text.scrollWidth <= text.clientWidth;
    };
    more.addEventListener("click", function () {
      var open = more.getAttribute("aria-expanded") !== "true";
      more.setAttribute("aria-expanded", open ? "true" : "false");
      more.textContent = open ? more.dataset.less : more.dataset.more;
      banner.classList.toggle("unfolded", open);
      if (window.mapappMap) window.mapappMap.invalidateSize();
    });
    offer();
    window.addEventListener("resize", offer);
  }
  if (close) {
    close.hidden = false;
    close.addEventListener("click", function () {
      banner.classList.add("dismissed"); // a class, not [hidden]: the map shows and hides it as filters change
      var main = document.getElementById("main");
      if (main) { main.setAttribute("tabindex", "-1"); main.focus(); }
      if (window.mapappMap) window.mapappMap.invalidateSize();
    });
  }
})();

// Every page: a language chosen with ?lang= is kept for the next pages in the cookie the
// server reads (web/i18n.py). The pages do not set it themselves: a page with a cookie of
// its own could not be kept by a shared cache for everyone.
(function () {
  "use strict";
  var asked = (new URLSearchParams(window.location.search).get("lang") || "").toLowerCase();
  if (!asked || document.documentElement.lang !== asked) return;  // not one of the site's languages
  if (document.cookie.split("; ").indexOf("lang=" + asked) !== -1) return;
  document.cookie = "lang=" + asked + "; path=/; max-age=31536000; samesite=lax" +
    (window.location.protocol === "https:" ? "; secure" : "");
})();

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

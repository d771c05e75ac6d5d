// The embed builder: turns the chosen options into an embed URL, a live preview and
// two snippets (a plain iframe, or our script that resizes the iframe).
(function () {
  "use strict";
  var settings = JSON.parse(document.getElementById("builder-settings").textContent);
  var form = document.getElementById("builder");
  var preview = document.getElementById("preview");

  function embedUrl() {
    var params = new URLSearchParams();
    var lock = [];
    ["country", "theme", "project"].forEach(function (kind) {
      var values = [];
      form.querySelectorAll('input[name="' + kind + '"]:checked').forEach(function (box) { values.push(box.value); });
      if (values.length) {
        params.set(kind, values.join(","));
        lock.push(kind);
      }
    });
    if (form.elements.lock.checked && lock.length) params.set("lock", lock.join(","));
    params.set("lang", form.elements.lang.value);
    var limits = settings.height;
    var height = parseInt(form.elements.height.value, 10) || limits["default"];
    params.set("height", String(Math.max(limits.min, Math.min(limits.max, height))));
    if (!form.elements.controls.checked) params.set("controls", "0");
    return settings.origin + settings.embed + "?" + params.toString();
  }

  function escapeAttr(text) {
    return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  }

  // The embed tells its parent its content's height (map.js, "mapapp:height"): the preview's,
  // measured at the preview's width, is the plain iframe snippet's height.
  var measured = null;
  var shownUrl = null;
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.source !== preview.contentWindow || !data || data.type !== "mapapp:height") return;
    var limits = settings.height;
    var height = Math.round(Number(data.height));
    if (!(height >= limits.min && height <= limits.frameMax) || height === measured) return;
    measured = height;
    update();
  });

  function update() {
    var url = embedUrl();
    // The iframe holds the map, and the filter bar and footer around it: its measured height
    // once the preview said it, the estimate until then.
    var limits = settings.height;
    var mapHeight = Math.max(limits.min, Math.min(limits.max, parseInt(form.elements.height.value, 10) || limits["default"]));
    if (url !== shownUrl) {
      shownUrl = url;
      measured = null;
      preview.src = url;
    }
    var estimate = mapHeight + limits.around[form.elements.controls.checked ? "controls" : "bare"];
    preview.dataset.estimate = String(estimate);
    var height = measured || estimate;
    preview.height = String(height); // as the partner's page will show it
    document.getElementById("snippet-iframe").value =
      '<iframe src="' + escapeAttr(url) + '" title="' + escapeAttr(settings.title) + '" width="100%" height="' +
      height + '" loading="lazy" style="border:0;max-width:100%"></iframe>';
    document.getElementById("snippet-script").value =
      '<script src="' + escapeAttr(settings.origin + settings.script) + '" data-map="' + escapeAttr(url) +
      '" data-title="' + escapeAttr(settings.title) + '" data-height="' + height + '"></' + 'script>';
  }

  form.addEventListener("change", update);
  form.addEventListener("input", update);
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var said = document.getElementById(button.getAttribute("data-copy") + "-status");
    button.addEventListener("click", function () {
      var box = document.getElementById(button.getAttribute("data-copy"));
      box.select();
      var copying = navigator.clipboard ? navigator.clipboard.writeText(box.value)
        : Promise.reject(new Error("no clipboard"));
      copying.then(function () { said.textContent = settings.copied; },
                   function () { said.textContent = settings.copyByHand; });
    });
  });
  update();
})();

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
      var value = form.elements[kind].value;
      if (value) {
        params.set(kind, value);
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

  function update() {
    var url = embedUrl();
    // The iframe holds the map, and the filter bar and footer around it.
    var limits = settings.height;
    var mapHeight = Math.max(limits.min, Math.min(limits.max, parseInt(form.elements.height.value, 10) || limits["default"]));
    var height = mapHeight + limits.around[form.elements.controls.checked ? "controls" : "bare"];
    preview.src = url;
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

/* {{ site.name | replace("*/", "* /") | replace("<", "") }}: embed the map. Place this tag where the map should appear:
   <script src="{{ origin }}/embed.js" data-map="{{ origin }}/embed?country=IT" data-title="Map"></script>
   It inserts an iframe and keeps its height in step with the map's content. */
(function () {
  "use strict";
  var ORIGIN = {{ origin | tojson }};
  var HEIGHT = {{ embed_height | tojson }};
  var script = document.currentScript;
  if (!script) return;
  var src = script.getAttribute("data-map") || ORIGIN + "/embed";
  if (src.indexOf(ORIGIN + "/embed") !== 0) {
    console.error("mapapp embed: data-map must start with " + ORIGIN + "/embed");
    return;
  }
  var frame = document.createElement("iframe");
  frame.src = src;
  frame.title = script.getAttribute("data-title") || "Map";
  frame.loading = "lazy";
  frame.setAttribute("style", "display:block;width:100%;max-width:100%;border:0;height:" +
                     (parseInt(script.getAttribute("data-height"), 10) || HEIGHT["default"] + HEIGHT.around.controls) + "px");
  script.parentNode.insertBefore(frame, script.nextSibling);
  window.addEventListener("message", function (event) {
    // Only our own iframe, from our own origin, may resize it.
    if (event.origin !== ORIGIN || event.source !== frame.contentWindow) return;
    var data = event.data || {};
    if (data.type === "mapapp:height" && typeof data.height === "number") {
      frame.style.height = Math.max(HEIGHT.min, Math.min(HEIGHT.frameMax, Math.round(data.height))) + "px";
    }
  });
})();

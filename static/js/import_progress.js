// Follows a running import until it ends (or leaves the queue), then reloads the page to show it.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box || box.dataset.state !== "running") return;
  var bar = document.getElementById("bar");
  var state = document.getElementById("state");
  function poll() {
    fetch(box.dataset.status, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.rows_total) { bar.max = s.rows_total; bar.value = s.rows_done; }
        if (s.state === "running" && (s.queued ? "yes" : "no") === box.dataset.queued && !s.worker_missing) {
          var text = document.getElementById("progress-text");
          if (text) text.textContent = s.progress_text;
          setTimeout(poll, 700);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 300);
})();

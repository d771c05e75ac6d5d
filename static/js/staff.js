// Staff screens show dates in the staff member's own time zone: tell it to the server.
(function () {
  "use strict";
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && document.cookie.indexOf("tz=" + zone) === -1) {
    document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
  }
})();

// A wide table in a scrolling box: a line says more columns are hidden to the right, while they are.
(function () {
  "use strict";
  function update(box) {
    var hint = document.getElementById(box.dataset.scrollHint);
    if (!hint) return;
    var more = box.scrollWidth - box.clientWidth - box.scrollLeft > 2;
    hint.hidden = !more;
    box.classList.toggle("more-right", more);
  }
  document.querySelectorAll(".table-scroll[data-scroll-hint]").forEach(function (box) {
    update(box);
    box.addEventListener("scroll", function () { update(box); });
    window.addEventListener("resize", function () { update(box); });
  });
})();

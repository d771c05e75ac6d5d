// The contribution form: ALTCHA's proof-of-work runs in a worker served from this site
// (the widget's external build, so that the page's CSP needs no inline code).
(function () {
  "use strict";
  var settings = JSON.parse(document.getElementById("contribute-settings").textContent);
  window.$altcha.algorithms.set("PBKDF2/SHA-256", function () { return new Worker(settings.worker); });
})();

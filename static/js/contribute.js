// The contribution form: ALTCHA's proof-of-work runs in a worker served from this site
// (the widget's external build, so that the page's CSP needs no inline code); while the
// author types a name or a website, organisations already on the map with the same one
// are shown ("is it one of these?"). Their names reach the page through textContent.
(function () {
  "use strict";
  var settings = JSON.parse(document.getElementById("contribute-settings").textContent);
  window.$altcha.algorithms.set("PBKDF2/SHA-256", function () { return new Worker(settings.worker); });

  var box = document.getElementById("duplicates");
  if (!box || !settings.duplicates) return;
  var form = box.closest("form");
  var timer = null, asked = "";

  function show(items) {
    box.replaceChildren();
    box.hidden = !items.length;
    if (!items.length) return;
    var title = document.createElement("p");
    title.textContent = settings.oneOfThese;
    var list = document.createElement("ul");
    items.forEach(function (org) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = org.url + "?lang=" + encodeURIComponent(settings.lang);
      link.textContent = org.name;
      item.appendChild(link);
      if (org.city) item.appendChild(document.createTextNode(" (" + org.city + ")"));
      list.appendChild(item);
    });
    box.appendChild(title);
    box.appendChild(list);
  }

  function check() {
    var params = new URLSearchParams({ name: form.elements.name.value, website: form.elements.website.value });
    var key = params.toString();
    if (key === asked) return;
    asked = key;
    fetch(settings.duplicates + "?" + key)
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (body) { if (key === asked) show(body.items || []); })
      .catch(function () {});
  }

  ["name", "website"].forEach(function (field) {
    form.elements[field].addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 350);
    });
  });
})();

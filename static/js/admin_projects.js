// The project page's "add an organisation" box: search the catalogue as staff type
// (/admin/organisations/search.json), list what matches, and pick one. Names reach the
// page as text (textContent), never as markup.
(function () {
  "use strict";
  var form = document.getElementById("add-member");
  if (!form) return;
  var box = document.getElementById("member-search");
  var results = document.getElementById("member-results");
  var chosen = document.getElementById("member-chosen");
  var hidden = document.getElementById("member-id");
  var timer = null;
  var asked = 0;

  function label(o) {
    return o.name + (o.city ? ", " + o.city : "") + (o.country ? " (" + o.country + ")" : "");
  }

  function show(list) {
    results.replaceChildren();
    list.forEach(function (o) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = label(o);
      button.addEventListener("click", function () {
        hidden.value = String(o.id);
        chosen.textContent = label(o);
        box.value = o.name;
        results.replaceChildren();
      });
      item.appendChild(button);
      results.appendChild(item);
    });
  }

  function search() {
    var query = box.value.trim();
    var mine = ++asked;
    if (!query) { show([]); return; }
    fetch(form.dataset.search + "?q=" + encodeURIComponent(query), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : {organisations: []}; })
      .then(function (data) { if (mine === asked) show(data.organisations || []); });
  }

  box.addEventListener("input", function () {
    hidden.value = "";
    chosen.textContent = "";
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
})();

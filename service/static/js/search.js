// Place search on the check page: suggestions from /api/v1/places as you type (districts, postcodes, addresses).
// Progressive enhancement of the district form: without JavaScript the form and its <datalist> still work.
// Keyboard: arrow keys move through the suggestions, Enter picks one, Escape closes the list. No inline
// handlers (the pages' CSP allows scripts from 'self' only).
(function () {
  "use strict";
  var input = document.getElementById("district");
  var list = document.getElementById("place-suggestions");
  if (!input || !list || !input.getAttribute("data-places-url") || !window.fetch) { return; }
  var note = document.getElementById("place-note");
  var placesUrl = input.getAttribute("data-places-url");
  var checkUrl = input.getAttribute("data-check-url");
  var lang = input.getAttribute("data-lang") || "de";
  var types = (input.getAttribute("data-types") || "").split("|");
  var typeLabel = {ortsteil: types[0], stadtteil: types[1], stadtbezirk: types[2], postcode: types[3]};
  var results = [], active = -1, seq = 0, timer = null;

  input.removeAttribute("list");  // the suggestions below replace the datalist
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);
  if (input.getAttribute("data-hint")) { input.setAttribute("title", input.getAttribute("data-hint")); }

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function setActive(i) {
    var items = list.children;
    if (!items.length) { return; }
    active = (i + items.length) % items.length;
    for (var k = 0; k < items.length; k++) { items[k].setAttribute("aria-selected", k === active ? "true" : "false"); }
    input.setAttribute("aria-activedescendant", items[active].id);
    items[active].scrollIntoView({block: "nearest"});
  }

  function target(r) {
    var q = "";
    if (r.type === "ortsteil" || r.type === "stadtteil" || r.type === "stadtbezirk") {
      q = "district=" + encodeURIComponent(r.key);
    } else if (r.type === "postcode") {
      q = "postcode=" + encodeURIComponent(r.key);
    } else {
      q = "lon=" + r.point.lon.toFixed(7) + "&lat=" + r.point.lat.toFixed(7);
    }
    return checkUrl + "?" + q + (lang === "en" ? "&lang=en" : "");
  }

  function pick(i) {
    var r = results[i];
    if (!r) { return; }
    close();
    if (r.type === "street") {  // a whole street: ask for the house number
      input.value = (r.street || r.name) + " ";
      input.focus();
      search();
      return;
    }
    window.location.assign(target(r));
  }

  function render(data) {
    results = data.results || [];
    if (data.address_search === "not configured" && data.fallback_reason) {
      // an address without an address source: weak name matches would be unrelated districts
      results = results.filter(function (r) { return r.type === "postcode" || r.score >= 90; });
    }
    list.textContent = "";
    results.forEach(function (r, i) {
      var li = document.createElement("li");
      li.id = "place-opt-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.setAttribute("data-type", r.type);
      li.setAttribute("data-key", r.key);
      li.appendChild(document.createTextNode(r.name));
      var extra = typeLabel[r.type] || (r.district ? r.district.name : "");
      if (extra) {
        var span = document.createElement("span");
        span.className = "place-type";
        span.textContent = "(" + extra + ")";
        li.appendChild(span);
      }
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); pick(i); });
      list.appendChild(li);
    });
    if (note) {
      // "not configured" is said next to the field already (#address-note)
      note.textContent = data.address_search === "failed" ? data.fallback_reason : "";
    }
    if (results.length) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    } else {
      close();
    }
  }

  function search() {
    var q = input.value.trim();
    var mine = ++seq;
    if (q.length < 2) { close(); return; }
    fetch(placesUrl + "?limit=8&q=" + encodeURIComponent(q), {headers: {Accept: "application/json"}})
      .then(function (resp) { return resp.ok ? resp.json() : {results: []}; })
      .then(function (data) { if (mine === seq) { render(data); } })
      .catch(function () { if (mine === seq) { close(); } });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(search, 120);
  });
  input.addEventListener("keydown", function (ev) {
    var open = !list.hidden && results.length > 0;
    if (ev.key === "ArrowDown") {
      ev.preventDefault();
      if (open) { setActive(active + 1); } else { search(); }
    } else if (ev.key === "ArrowUp" && open) {
      ev.preventDefault();
      setActive(active - 1);
    } else if (ev.key === "Enter" && open && active >= 0) {
      ev.preventDefault();  // without a chosen suggestion Enter submits the form (server-side answer)
      pick(active);
    } else if (ev.key === "Escape" && open) {
      ev.preventDefault();
      close();
    }
  });
  input.addEventListener("blur", function () { window.setTimeout(close, 150); });
})();

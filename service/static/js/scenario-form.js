// The scenario form: every change previews the draft against the official result (POST .../preview, nothing
// stored); "save" stores it with the API token and opens its comparison page. Text only via textContent.
(function () {
  "use strict";
  var form = document.getElementById("draft-form");
  if (!form) { return; }
  var W = JSON.parse(form.getAttribute("data-words"));
  var out = document.getElementById("preview-body");
  var timer = null, seq = 0;
  var fmt = new Intl.NumberFormat(W.lang === "en" ? "en-GB" : "de-DE", {maximumFractionDigits: 0});
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function values() {
    var v = {};
    form.querySelectorAll("input[type=number]").forEach(function (inp) {
      if (inp.value === "") { return; }
      var x = Number(inp.value);
      if (inp.getAttribute("data-kind") === "share") { x = x / 100; }
      if (x !== Number(inp.getAttribute("data-original"))) { v[inp.name] = x; }
    });
    return {values: v, title: form.elements.title.value};
  }
  function table(head, rows) {
    var t = el("table", null, "data"), tr = el("tr");
    head.forEach(function (h) { tr.appendChild(el("th", h)); });
    var th = el("thead"); th.appendChild(tr); t.appendChild(th);
    var tb = el("tbody");
    rows.forEach(function (r) {
      var row = el("tr");
      r.forEach(function (c, i) { row.appendChild(el("td", c, i > 0 && typeof c === "number" ? "num" : null)); });
      tb.appendChild(row);
    });
    t.appendChild(tb);
    return t;
  }
  function words(cats) {
    return (cats || "").split(";").filter(Boolean).map(function (c) { return W.cats[c] || c; }).join(", ") || "–";
  }
  function render(a) {
    out.textContent = "";
    W.cats = a.words || {};
    var cats = a.comparison.categories.filter(function (c) { return c.areas_gained || c.areas_lost; });
    if (!cats.length) { out.appendChild(el("p", W.none, "no-change")); }
    else {
      out.appendChild(table([W.areas, "+", "−", W.residents + " +", W.residents + " −"], cats.map(function (c) {
        return [W.cats[c.category] || c.category, c.areas_gained, c.areas_lost, fmt.format(c.residents_gained),
                fmt.format(c.residents_lost)];
      })));
      out.appendChild(table(["", W.gained, W.lost, W.shift], a.comparison.areas.map(function (r) {
        return [r.name + " (" + r.key + ")", words(r.gained), words(r.lost),
                (r.budget_shift_eur > 0 ? "+" : "") + fmt.format(r.budget_shift_eur) + " EUR"];
      })));
    }
    (a.blocked || []).forEach(function (b) {
      ["capped", "too_few_residents", "enclave"].forEach(function (rule) {
        if (!b[rule].length) { return; }
        var p = el("p", null, "blocked blocked-" + rule);
        p.appendChild(el("strong", (W.cats[b.category] || b.category) + " – " + W[rule] + ": "));
        p.appendChild(document.createTextNode(b[rule].map(function (x) { return x.name; }).join(", ")));
        out.appendChild(p);
      });
    });
    out.appendChild(table(["", W.total, W.allocated, W.unallocated], (a.budget || []).map(function (b) {
      return [b.group, fmt.format(b.total_eur) + " EUR", fmt.format(b.allocated_eur) + " EUR",
              fmt.format(b.unallocated_eur) + " EUR"];
    })));
  }
  function preview() {
    var mine = ++seq;
    out.setAttribute("aria-busy", "true");
    fetch(form.getAttribute("data-preview"), {method: "POST", headers: {"Content-Type": "application/json"},
                                             body: JSON.stringify(values())})
      .then(function (r) { return r.json().then(function (j) { return {ok: r.ok, body: j}; }); })
      .then(function (res) {
        if (mine !== seq) { return; }
        out.removeAttribute("aria-busy");
        if (!res.ok) { out.textContent = W.error + " " + (res.body.detail || ""); return; }
        render(res.body);
      })
      .catch(function () { if (mine === seq) { out.textContent = W.error; } });
  }
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(preview, 400); });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var token = form.elements.token ? form.elements.token.value : "";
    fetch(form.getAttribute("data-save"), {method: "POST", headers: {"Content-Type": "application/json",
          "Authorization": "Bearer " + token}, body: JSON.stringify(values())})
      .then(function (r) { return r.json().then(function (j) { return {ok: r.ok, body: j}; }); })
      .then(function (res) {
        if (!res.ok) { out.textContent = W.error + " " + (res.body.detail || ""); return; }
        window.location.href = form.getAttribute("data-open").replace("__ID__", encodeURIComponent(res.body.id));
      });
  });
  preview();
})();

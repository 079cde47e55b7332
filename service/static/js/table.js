// Sort and filter the districts table: buttons in the column heads, a text filter and a city filter.
(function () {
  "use strict";
  var table = document.getElementById("districts");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var filter = document.getElementById("filter"), city = document.getElementById("city");
  var shown = document.getElementById("shown"), shownLabel = document.getElementById("shown-label");
  var collator = new Intl.Collator(document.documentElement.lang || "de", {numeric: true, sensitivity: "base"});
  function cellValue(row, col, type) {
    var cell = row.cells[col];
    if (type === "num") {
      var v = cell.getAttribute("data-value");
      return v === null || v === "" ? null : parseFloat(v);
    }
    return cell.textContent.trim();
  }
  Array.prototype.forEach.call(table.tHead.querySelectorAll("button[data-col]"), function (btn) {
    btn.addEventListener("click", function () {
      var th = btn.parentNode, col = parseInt(btn.getAttribute("data-col"), 10), type = btn.getAttribute("data-type");
      var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
      Array.prototype.forEach.call(table.tHead.querySelectorAll("th"), function (h) { h.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", dir);
      var sign = dir === "ascending" ? 1 : -1;
      rows.sort(function (a, b) {
        var x = cellValue(a, col, type), y = cellValue(b, col, type);
        if (x === null && y === null) { return 0; }
        if (x === null) { return 1; }
        if (y === null) { return -1; }
        return sign * (type === "num" ? x - y : collator.compare(x, y));
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  function apply() {
    var q = (filter.value || "").toLowerCase(), c = city.value, n = 0;
    rows.forEach(function (r) {
      var ok = (!c || r.getAttribute("data-city") === c) && (!q || r.textContent.toLowerCase().indexOf(q) >= 0);
      r.hidden = !ok;
      if (ok) { n++; }
    });
    shown.textContent = n + " " + shownLabel.textContent;
  }
  filter.addEventListener("input", apply);
  city.addEventListener("change", apply);
  apply();
})();

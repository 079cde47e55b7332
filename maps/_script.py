"""The small JavaScript that styles one shared GeoJSON per thematic layer, and the map element that carries it.

The script is kept as a string (maps/ reads no files); :class:`ThematicLayers` carries it with the layers'
data (:func:`safe_json`).

It builds every text node with ``textContent`` (never ``innerHTML``), so names from data cannot inject markup.
"""

from __future__ import annotations

import json
from typing import Any

from branca.element import MacroElement
from jinja2 import Template

THEMATIC_JS = r"""
(function (map, D) {
  "use strict";
  var current = 0;
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function layerById(id) {
    for (var j = 0; j < D.layers.length; j++) { if (D.layers[j].id === id) { return j; } }
    return -1;
  }
  function styleFor(feature) {
    var lay = D.layers[current], c = lay.classes[feature.properties.i];
    var fill = c < 0 ? D.noData : lay.legend[c].color;
    return {color: D.outline, weight: 0.8, opacity: 1, fillColor: fill,
            fillOpacity: lay.outline ? 0 : 0.8};
  }
  function tooltip(layer) {
    var i = layer.feature.properties.i, r = D.rows[i], box = el("div", "q-tip");
    box.appendChild(el("strong", null, r[1]));
    box.appendChild(el("div", "q-tip-key", D.t.key + " " + r[0] + " · " + r[2]));
    for (var j = 0; j < D.tipLabels.length; j++) {
      box.appendChild(el("div", null, D.tipLabels[j] + ": " + r[3 + j]));
    }
    var lay = D.layers[current];
    if (lay.values) { box.appendChild(el("div", "q-tip-layer", lay.title + ": " + lay.values[i])); }
    return box;
  }
  function popup(layer) {
    var r = D.rows[layer.feature.properties.i], box = el("div", "q-popup");
    box.appendChild(el("strong", null, r[1]));
    box.appendChild(el("br"));
    var a = el("a", "q-profile-link", D.t.profile);
    a.href = D.profileUrl.replace("__KEY__", encodeURIComponent(r[0]));
    box.appendChild(a);
    return box;
  }
  var geo = L.geoJSON(D.geo, {
    style: styleFor,
    onEachFeature: function (feature, layer) {
      layer.bindTooltip(tooltip, {sticky: true, direction: "top", className: "q-tooltip"});
      if (!D.clickUrl) { layer.bindPopup(popup); }
      layer.on("mouseover", function () { layer.setStyle({weight: 3}); layer.bringToFront(); });
      layer.on("mouseout", function () { geo.resetStyle(layer); });
    }
  }).addTo(map);
  if (D.clickUrl) {
    map.on("click", function (ev) {
      window.location.href = D.clickUrl.replace("__LON__", ev.latlng.lng.toFixed(5))
        .replace("__LAT__", ev.latlng.lat.toFixed(5));
    });
  }
  // labels (district names) from zoom 12 on
  var labels = L.layerGroup();
  for (var k = 0; k < D.rows.length; k++) {
    var span = el("span", null, D.rows[k][1]);
    labels.addLayer(L.marker(D.labels[k], {interactive: false, keyboard: false,
      icon: L.divIcon({className: "q-label", html: span, iconSize: null})}));
  }
  var markers = labels.getLayers();
  function declutter() {
    // larger districts first; a label that would overlap one already shown is hidden at this zoom
    var shown = [];
    for (var q = 0; q < D.labelOrder.length; q++) {
      var node = markers[D.labelOrder[q]].getElement();
      if (!node) { continue; }
      node.style.visibility = "";
      var r = node.getBoundingClientRect(), free = true;
      for (var s = 0; s < shown.length && free; s++) {
        var o = shown[s];
        free = r.right < o.left || r.left > o.right || r.bottom < o.top || r.top > o.bottom;
      }
      if (free) { shown.push(r); } else { node.style.visibility = "hidden"; }
    }
  }
  function toggleLabels() {
    if (map.getZoom() >= D.labelZoom) { labels.addTo(map); declutter(); } else { labels.remove(); }
  }
  map.on("zoomend", toggleLabels);
  // legend
  // the legend folds away (a <details>); on a narrow screen it starts folded, so it never covers the city
  var legendBox = el("details", "q-legend leaflet-bar");
  legendBox.open = !(window.matchMedia && window.matchMedia("(max-width: 600px)").matches);  // see "narrow"
  function drawLegend() {
    var lay = D.layers[current];
    legendBox.textContent = "";
    legendBox.appendChild(el("summary", "q-legend-title", lay.title));
    if (lay.note) { legendBox.appendChild(el("div", "q-legend-note", lay.note)); }
    var list = el("ul");
    for (var j = 0; j < lay.legend.length; j++) {
      var item = el("li"), sw = el("span", "q-swatch");
      sw.style.background = lay.legend[j].color;
      item.appendChild(sw);
      item.appendChild(el("span", "q-legend-label", lay.legend[j].label));
      item.appendChild(el("span", "q-legend-count", "(" + lay.legend[j].count + ")"));
      list.appendChild(item);
    }
    if (lay.missing > 0) {
      var none = el("li"), sw2 = el("span", "q-swatch");
      sw2.style.background = D.noData;
      none.appendChild(sw2);
      none.appendChild(el("span", "q-legend-label", D.t.noData));
      none.appendChild(el("span", "q-legend-count", "(" + lay.missing + ")"));
      list.appendChild(none);
    }
    legendBox.appendChild(list);
  }
  function setLayer(id) {
    var j = layerById(id);
    if (j < 0) { return; }
    current = j;
    geo.setStyle(styleFor);
    drawLegend();
    if (select.value !== id) { select.value = id; }
  }
  // layer switch and city buttons
  var narrow = window.matchMedia && window.matchMedia("(max-width: 600px)").matches;
  var box = el("details", "q-control leaflet-bar");
  box.open = !narrow;  // folded on a phone: the map stays visible
  box.appendChild(el("summary", "q-control-title", D.t.layer));
  var select = el("select");
  select.id = D.id + "-layer";
  select.setAttribute("aria-label", D.t.layer);
  var groups = {};
  for (var g = 0; g < D.layers.length; g++) {
    var ly = D.layers[g];
    if (!groups[ly.group]) {
      groups[ly.group] = el("optgroup");
      groups[ly.group].label = ly.group;
      select.appendChild(groups[ly.group]);
    }
    var opt = el("option", null, ly.title);
    opt.value = ly.id;
    groups[ly.group].appendChild(opt);
  }
  select.addEventListener("change", function () {
    setLayer(select.value);
    if (D.useHash && window.history && window.history.replaceState) {
      window.history.replaceState(null, "", "#layer=" + select.value);
    }
  });
  box.appendChild(select);
  var cities = el("div", "q-cities");
  Object.keys(D.bounds).forEach(function (name) {
    var b = el("button", "q-city", name === "*" ? D.t.both : name);
    b.type = "button";
    b.addEventListener("click", function () { map.fitBounds(D.bounds[name]); });
    cities.appendChild(b);
  });
  box.appendChild(cities);
  var Ctl = L.Control.extend({onAdd: function () {
    L.DomEvent.disableClickPropagation(this.options.node);
    L.DomEvent.disableScrollPropagation(this.options.node);
    return this.options.node;
  }});
  if (D.layers.length > 1) { new Ctl({position: "topright", node: box}).addTo(map); }
  new Ctl({position: "bottomright", node: legendBox}).addTo(map);
  var start = D.initial;
  var m = /layer=([\w-]+)/.exec(window.location.hash || "");
  if (D.useHash && m && layerById(m[1]) >= 0) { start = m[1]; }
  // padding only once the map has a size (a map in a hidden or not yet laid out iframe has none: fitting with
  // padding would then give a NaN view)
  var size = map.getSize();
  map.fitBounds(D.bounds["*"], size.x > 32 && size.y > 32 ? {animate: false, padding: [8, 8]} : {animate: false});
  setLayer(start);
  toggleLabels();
  window.quartiereMaps = window.quartiereMaps || {};
  window.quartiereMaps[D.id] = {map: map, districts: geo, setLayer: setLayer, data: D};
})(MAP, DATA);
"""

CSS = """
.folium-map{background:#eef0f2}
.q-control{background:#fff;padding:6px 8px;font:14px/1.3 system-ui,sans-serif;max-width:18em}
.q-control summary{margin-bottom:2px}
.q-control select{max-width:100%}
.q-cities{margin-top:6px;display:flex;flex-wrap:wrap;gap:4px}
.q-city{font:inherit;font-size:13px;padding:2px 6px;cursor:pointer}
.q-legend{background:#fff;padding:6px 8px;font:13px/1.35 system-ui,sans-serif;max-width:20em}
.q-legend summary,.q-control summary{font-weight:600;cursor:pointer}
.q-legend ul{list-style:none;margin:4px 0 0;padding:0}
.q-legend li{display:flex;align-items:center;gap:6px}
.q-legend-note{font-size:12px;color:#444}
.q-legend-count{color:#555}
.q-swatch{display:inline-block;width:14px;height:14px;border:1px solid #666;flex:none}
.q-label span{font:11px system-ui,sans-serif;color:#222;text-shadow:0 0 2px #fff,0 0 2px #fff;white-space:nowrap;
  position:relative;left:-50%;top:-7px;display:inline-block}
.q-tip{font:13px/1.35 system-ui,sans-serif}
.q-tip-key{color:#555}
.q-tip-layer{margin-top:2px;font-weight:600}
"""


def safe_json(data: Any) -> str:
    """JSON that can stand inside an HTML ``<script>`` element: ``<``, ``>``, ``&`` and line separators escaped."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for ch, rep in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, rep)
    return text


class ThematicLayers(MacroElement):
    """One GeoJSON with per-layer styles, a layer switch and a legend, added to a :class:`folium.Map`."""

    _template = Template("""
{% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
{% macro script(this, kwargs) %}{{ this.script }}{% endmacro %}
""")

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__()
        self._name = "ThematicLayers"
        self.data = data
        self.css = CSS

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # branca's Element.render returns None too
        assert self._parent is not None, "ThematicLayers must be added to a map before rendering"
        map_name = self._parent.get_name()
        self.data["id"] = map_name
        self.script = THEMATIC_JS.replace("(MAP, DATA)", f"({map_name}, {safe_json(self.data)})")
        super().render(**kwargs)

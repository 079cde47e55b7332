// The check page's map: the answer's point and district outline, drawing an area (Leaflet-Geoman, vendored),
// a GeoJSON upload read in the browser, and answers for areas kept in the URL's hash (#area=<GeoJSON geometry>)
// so that a link or a reload restores them. Clicking the map (when not drawing) checks the point clicked.
// No inline handlers (the pages' CSP allows scripts from 'self' only); texts come from data- attributes.
(function () {
  "use strict";
  var maps = window.quartiereMaps || {};
  var id = Object.keys(maps)[0];
  if (!id || !window.L) { return; }
  var Q = maps[id], map = Q.map;
  var answer = document.getElementById("answer");
  var box = document.getElementById("draw");
  var marksEl = document.getElementById("check-marks");
  var marks = marksEl ? JSON.parse(marksEl.textContent) : {point: null, shapes: {type: "FeatureCollection", features: []}};
  var lang = document.documentElement.getAttribute("lang") === "en" ? "en" : "de";
  var style = {color: "#d40000", weight: 4, opacity: 1, fill: false, className: "check-outline"};

  map.createPane("checkMarks");
  map.getPane("checkMarks").style.zIndex = 450;
  map.getPane("checkMarks").style.pointerEvents = "none";
  var overlay = L.layerGroup().addTo(map);

  function showMarks() {
    overlay.clearLayers();
    var outline = L.geoJSON(marks.shapes, {pane: "checkMarks", interactive: false, style: function () { return style; }});
    outline.addTo(overlay);
    var bounds = outline.getBounds();
    if (marks.point) {
      var ll = L.latLng(marks.point[1], marks.point[0]);
      L.circleMarker(ll, {pane: "checkMarks", interactive: false, radius: 7, color: "#fff", weight: 2,
        fillColor: "#d40000", fillOpacity: 1, className: "check-point"}).addTo(overlay);
      bounds = bounds.isValid() ? bounds.extend(ll) : L.latLngBounds(ll, ll);
    }
    return bounds;
  }

  function fit(bounds) {
    if (bounds && bounds.isValid()) { map.fitBounds(bounds, {maxZoom: 14, padding: [32, 32], animate: false}); }
  }

  var markBounds = showMarks();
  fit(markBounds);
  var show = answer && answer.querySelector(".show-on-map");
  if (show && markBounds.isValid()) {
    show.hidden = false;
    show.addEventListener("click", function () {
      fit(markBounds);
      map.getContainer().scrollIntoView({block: "nearest"});
    });
  }

  // clicks check the point, except while drawing (the map's own click handler is replaced)
  var drawing = false;
  var clickUrl = Q.data.clickUrl;
  map.off("click");
  if (clickUrl) {
    map.on("click", function (ev) {
      if (drawing || (map.pm && map.pm.globalDrawModeEnabled())) { return; }
      window.location.href = clickUrl.replace("__LON__", ev.latlng.lng.toFixed(5))
        .replace("__LAT__", ev.latlng.lat.toFixed(5));
    });
  }
  if (!box || !L.PM || !window.fetch) { return; }
  // Geoman hooks into maps created after it loaded; this map is older. Only layers that opt in are editable
  // (the drawn area), never the districts or the answer's outline.
  L.PM.setOptIn(true);
  if (!map.pm) { map.pm = new L.PM.Map(map); }

  var areaUrl = box.getAttribute("data-area-url");
  var drawn = null, current = "";
  var buttons = box.querySelector(".draw-buttons"), upload = box.querySelector(".draw-upload");
  var cancel = document.getElementById("draw-cancel");
  buttons.hidden = false;
  upload.hidden = false;
  map.pm.setLang(lang);
  map.pm.addControls({position: "topleft", drawMarker: false, drawCircleMarker: false, drawPolyline: false,
    drawCircle: false, drawText: false, cutPolygon: false, rotateMode: false, dragMode: false, editMode: true,
    removalMode: false, drawPolygon: true, drawRectangle: true});
  map.pm.setGlobalOptions({pathOptions: {color: "#6a1b9a", weight: 3, fillOpacity: 0.15}, snappable: false});

  function round(coords) {
    if (typeof coords[0] === "number") { return [Math.round(coords[0] * 1e6) / 1e6, Math.round(coords[1] * 1e6) / 1e6]; }
    return coords.map(round);
  }

  function geometryOf(obj) {
    // a Polygon or MultiPolygon from a geometry, a Feature or a FeatureCollection (its polygons joined)
    if (!obj || typeof obj !== "object") { return null; }
    if (obj.type === "Feature") { return geometryOf(obj.geometry); }
    if (obj.type === "FeatureCollection" && Array.isArray(obj.features)) {
      var polys = [];
      obj.features.forEach(function (f) {
        var g = geometryOf(f);
        if (g && g.type === "Polygon") { polys.push(g.coordinates); }
        if (g && g.type === "MultiPolygon") { polys = polys.concat(g.coordinates); }
      });
      if (!polys.length) { return null; }
      return polys.length === 1 ? {type: "Polygon", coordinates: polys[0]} : {type: "MultiPolygon", coordinates: polys};
    }
    if ((obj.type === "Polygon" || obj.type === "MultiPolygon") && Array.isArray(obj.coordinates)) {
      return {type: obj.type, coordinates: round(obj.coordinates)};
    }
    return null;
  }

  function message(cls, text) {
    answer.textContent = "";
    var p = document.createElement("p");
    p.className = cls;
    p.textContent = text;
    answer.appendChild(p);
  }

  function setDrawn(geom) {
    if (drawn) { map.removeLayer(drawn); }
    drawn = L.geoJSON(geom, {pmIgnore: false, style: function () { return {color: "#6a1b9a", weight: 3, fillOpacity: 0.15}; }});
    drawn.addTo(map);
    drawn.eachLayer(function (layer) {
      layer.getElement && layer.getElement() && layer.getElement().classList.add("check-area");
      layer.on("pm:edit", function () { goTo(geometryOf(drawn.toGeoJSON())); });
    });
  }

  function ask(geom) {
    answer.classList.add("working");
    message("small", box.getAttribute("data-working"));
    fetch(areaUrl, {method: "POST", headers: {"Content-Type": "application/geo+json", Accept: "text/html"},
      body: JSON.stringify(geom)})
      .then(function (resp) {
        return resp.text().then(function (text) { return {ok: resp.ok, type: resp.headers.get("Content-Type") || "", text: text}; });
      })
      .then(function (r) {
        answer.classList.remove("working");
        if (r.ok) {
          answer.innerHTML = r.text;  // the server's own escaped template (pages/_check_area.html)
          var link = answer.querySelector(".share-link");
          if (link) { link.href = window.location.href; }
          return;
        }
        var detail = "";
        try { detail = JSON.parse(r.text).detail || ""; } catch (e) { detail = ""; }
        message("error", box.getAttribute("data-failed") + " " + (detail || r.type));
      })
      .catch(function (err) {
        answer.classList.remove("working");
        message("error", box.getAttribute("data-failed") + " " + err);
      });
  }

  function fromHash() {
    var m = /^#area=(.+)$/.exec(window.location.hash);
    if (!m) { return null; }
    try { return geometryOf(JSON.parse(decodeURIComponent(m[1]))); } catch (e) { return null; }
  }

  function goTo(geom) {
    // the answer's URL: this page without a point or district question, the area in the hash
    if (!geom) { message("error", box.getAttribute("data-bad-file")); return; }
    var url = window.location.pathname + (lang === "en" ? "?lang=en" : "") + "#area=" + encodeURIComponent(JSON.stringify(geom));
    if (window.location.pathname + window.location.search === url.split("#")[0]) {
      window.location.hash = url.split("#")[1];  // same page: hashchange answers
    } else {
      window.location.assign(url);  // another question on screen: load the page for the area
    }
  }

  function restore() {
    var geom = fromHash();
    if (!geom) { return; }
    var text = JSON.stringify(geom);
    if (text === current) { return; }
    current = text;
    overlay.clearLayers();
    setDrawn(geom);
    fit(drawn.getBounds());
    ask(geom);
  }

  map.on("pm:drawstart", function () { drawing = true; cancel.hidden = false; });
  map.on("pm:drawend", function () {
    window.setTimeout(function () { drawing = false; }, 0);  // the click that closed the shape is no point question
    cancel.hidden = true;
  });
  map.on("pm:create", function (e) {
    var geom = geometryOf(e.layer.toGeoJSON());
    map.removeLayer(e.layer);
    goTo(geom);
  });
  function start(shape) {
    return function () {
      map.pm.enableDraw(shape, {snappable: false});
      map.getContainer().scrollIntoView({block: "nearest"});
    };
  }
  document.getElementById("draw-polygon").addEventListener("click", start("Polygon"));
  document.getElementById("draw-rectangle").addEventListener("click", start("Rectangle"));
  cancel.addEventListener("click", function () { map.pm.disableDraw(); });
  document.getElementById("area-file").addEventListener("change", function (ev) {
    var file = ev.target.files && ev.target.files[0];
    if (!file) { return; }
    var reader = new FileReader();
    reader.onload = function () {
      var geom = null;
      try { geom = geometryOf(JSON.parse(String(reader.result))); } catch (e) { geom = null; }
      goTo(geom);
    };
    reader.readAsText(file);
  });
  window.addEventListener("hashchange", restore);
  restore();
})();

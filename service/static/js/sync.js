// Keep the scenario page's maps on the same view: moving one moves the others.
(function () {
  "use strict";
  var box = document.getElementById("sync-maps");
  if (!box || !window.quartiereMaps) { return; }
  var maps = box.getAttribute("data-maps").split(" ").map(function (id) { return window.quartiereMaps[id]; })
    .filter(Boolean).map(function (m) { return m.map; });
  var busy = false;
  maps.forEach(function (source) {
    source.on("move zoomend", function () {
      if (busy) { return; }
      busy = true;
      maps.forEach(function (target) {
        if (target !== source) { target.setView(source.getCenter(), source.getZoom(), {animate: false}); }
      });
      busy = false;
    });
  });
})();

// The profile's print link (no inline event handlers: CSP).
(function () {
  "use strict";
  var link = document.getElementById("print");
  if (link) { link.addEventListener("click", function (ev) { ev.preventDefault(); window.print(); }); }
})();

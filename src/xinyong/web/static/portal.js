// Light progressive enhancement: everything works without this file. It only adds a print button and a
// copy-link button to notice pages (hidden until this script shows them).
(function () {
  "use strict";
  document.querySelectorAll("button.js-only[data-action]").forEach(function (button) {
    var action = button.getAttribute("data-action");
    if (action === "copy" && !(navigator.clipboard && window.isSecureContext)) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      if (action === "print") { window.print(); return; }
      navigator.clipboard.writeText(window.location.href).then(function () {
        button.textContent = button.getAttribute("data-done");
      });
    });
  });
})();

// The 发起备忘录 form (/memoranda): shows the fields of the kind chosen, and adds measure fieldsets.
// Without this file the form still works: both kinds' fields show and one measure is sent.
(function () {
  "use strict";
  var form = document.querySelector("form.propose-form");
  if (!form) { return; }
  var MAX_MEASURES = 50;  // apply.proposals.Draft.measures

  function showKind() {
    var extend = form.querySelector("#kind-extend").checked;
    form.querySelectorAll(".when-new").forEach(function (el) { el.hidden = extend; });
    form.querySelectorAll(".when-extend").forEach(function (el) { el.hidden = !extend; });
  }
  form.querySelectorAll("input[name=kind]").forEach(function (radio) {
    radio.addEventListener("change", showKind);
  });
  showKind();

  var list = form.querySelector(".measures-form");
  var button = form.querySelector("button.add-measure");
  var template = list.querySelector("fieldset.measure-fields");
  button.hidden = false;
  button.addEventListener("click", function () {
    var shown = list.querySelectorAll("fieldset.measure-fields");
    if (shown.length >= MAX_MEASURES) { return; }
    // A form shown again after a refusal may skip numbers (a blank measure is not sent): take the next free.
    var index = 0;
    shown.forEach(function (el) { index = Math.max(index, Number(el.getAttribute("data-index")) + 1); });
    var copy = template.cloneNode(true);
    copy.setAttribute("data-index", String(index));
    copy.querySelector(".measure-number").textContent = String(shown.length + 1);
    copy.querySelectorAll("[id], [name], [for]").forEach(function (el) {
      ["id", "name", "for"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) { el.setAttribute(attr, value.replace(/^measure-\d+-/, "measure-" + index + "-")); }
      });
    });
    copy.querySelectorAll("input[type=text], input:not([type]), textarea").forEach(function (el) { el.value = ""; });
    copy.querySelectorAll("input[type=checkbox]").forEach(function (el) { el.checked = el.defaultChecked; });
    copy.querySelectorAll("select").forEach(function (el) { el.selectedIndex = 0; });
    list.appendChild(copy);
    copy.querySelector("input").focus();
    if (shown.length + 1 >= MAX_MEASURES) { button.hidden = true; }
  });
})();

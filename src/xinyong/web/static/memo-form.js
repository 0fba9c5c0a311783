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
    var index = list.querySelectorAll("fieldset.measure-fields").length;
    if (index >= MAX_MEASURES) { return; }
    var copy = template.cloneNode(true);
    copy.setAttribute("data-index", String(index));
    copy.querySelector(".measure-number").textContent = String(index + 1);
    copy.querySelectorAll("[id], [name], [for]").forEach(function (el) {
      ["id", "name", "for"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) { el.setAttribute(attr, value.replace(/^measure-0-/, "measure-" + index + "-")); }
      });
    });
    copy.querySelectorAll("input[type=text], input:not([type]), textarea").forEach(function (el) { el.value = ""; });
    copy.querySelectorAll("input[type=checkbox]").forEach(function (el) { el.checked = el.defaultChecked; });
    copy.querySelectorAll("select").forEach(function (el) { el.selectedIndex = 0; });
    list.appendChild(copy);
    copy.querySelector("input").focus();
    if (index + 1 >= MAX_MEASURES) { button.hidden = true; }
  });
})();

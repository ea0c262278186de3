/* Parents' requests: show only the fields that belong to the chosen request
   (the form works without this: every field shows, with its own legend), and
   a print button on the dossier overview. No inline script (CSP). */
(function () {
  "use strict";
  var form = document.querySelector("form[data-rights-request]");
  if (form) {
    var groups = form.querySelectorAll("[data-rights-for]");
    var update = function () {
      var checked = form.querySelector("input[name=kind]:checked");
      var kind = checked ? checked.value : "";
      groups.forEach(function (group) {
        var kinds = group.getAttribute("data-rights-for").split(" ");
        group.hidden = kind !== "" && kinds.indexOf(kind) === -1;
      });
    };
    form.addEventListener("change", update);
    update();
  }
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();

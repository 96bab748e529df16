// Examination and lab forms: the GAGS score as the clinician grades (factors come from the page), and
// a test's reporting unit filled in when a test is chosen.
(function () {
  "use strict";
  const gags = document.querySelector("[data-gags]");
  if (gags) {
    const bands = JSON.parse(document.getElementById("gags-bands").textContent);
    const selects = gags.querySelectorAll("select[data-factor]");
    function compute() {
      let total = 0, complete = true;
      selects.forEach(function (sel) {
        const cell = sel.closest("tr").querySelector("[data-local]");
        if (sel.value === "") { complete = false; cell.textContent = ""; return; }
        const local = Number(sel.dataset.factor) * Number(sel.value);
        cell.textContent = local;
        total += local;
      });
      document.getElementById("gags-total").textContent = complete ? total : total + " …";
      document.getElementById("gags-band").textContent = complete ? bands[String(total)] : "";
    }
    selects.forEach(function (sel) { sel.addEventListener("change", compute); });
    compute();
  }
  document.querySelectorAll("select[data-units-for]").forEach(function (sel) {
    sel.addEventListener("change", function () {
      const unit = document.getElementById("f-" + sel.dataset.unitsFor);
      const units = (sel.selectedOptions[0].dataset.units || "").split("|");
      if (unit && !unit.value && units[0]) unit.value = units[0];
    });
  });
})();

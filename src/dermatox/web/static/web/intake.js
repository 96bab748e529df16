// Intake page: show follow-up questions only when they apply, and a signature pad that writes an SVG path.
(function () {
  "use strict";
  const form = document.querySelector("form.intake");
  if (!form) return;

  // data-show-if="name=value": hidden (and skipped by the keyboard) until that answer is chosen.
  function refresh() {
    form.querySelectorAll("[data-show-if]").forEach(function (el) {
      const [name, value] = el.dataset.showIf.split("=");
      const checked = form.querySelector('input[name="' + name + '"]:checked');
      el.hidden = !(checked && checked.value === value);
    });
  }
  form.addEventListener("change", refresh);
  refresh();

  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  // Signature: strokes in the canvas's own 600 x 200 coordinates, as "M x y L x y ..." (integers).
  const canvas = form.querySelector("canvas[data-sign-into]");
  if (!canvas) return;
  const input = document.getElementById(canvas.dataset.signInto);
  const ctx = canvas.getContext("2d");
  ctx.lineWidth = 3; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#111";
  let path = input.value || "";
  let drawing = false;

  function point(ev) {
    const r = canvas.getBoundingClientRect();
    const x = Math.round(((ev.clientX - r.left) / r.width) * canvas.width);
    const y = Math.round(((ev.clientY - r.top) / r.height) * canvas.height);
    return [Math.max(0, Math.min(599, x)), Math.max(0, Math.min(199, y))];
  }
  function redraw() {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const parts = path.trim().split(/\s+/);
    ctx.beginPath();
    for (let i = 0; i + 2 < parts.length; i += 3) {
      const x = +parts[i + 1], y = +parts[i + 2];
      if (parts[i] === "M") ctx.moveTo(x, y); else if (parts[i] === "L") ctx.lineTo(x, y);
    }
    ctx.stroke();
  }
  canvas.addEventListener("pointerdown", function (ev) {
    ev.preventDefault();
    canvas.setPointerCapture(ev.pointerId);
    drawing = true;
    const [x, y] = point(ev);
    path += (path ? " " : "") + "M " + x + " " + y;
    input.value = path;
  });
  canvas.addEventListener("pointermove", function (ev) {
    if (!drawing) return;
    const [x, y] = point(ev);
    path += " L " + x + " " + y;
    input.value = path;
    redraw();
  });
  ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
    canvas.addEventListener(name, function () { drawing = false; });
  });
  form.querySelector("[data-sign-clear]").addEventListener("click", function () {
    path = ""; input.value = ""; redraw();
  });
  if (path) redraw();
})();

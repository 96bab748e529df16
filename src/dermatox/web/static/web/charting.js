// Injection map charting: click/tap to add, drag to move, keyboard to move/dose/remove.
// Every change goes to the server (which validates and versions it) and the page is re-rendered.
(function () {
  const maps = document.getElementById("maps");
  if (!maps || maps.dataset.editable !== "1") return;
  const url = maps.dataset.pointUrl;
  const token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
  const FOCUS_KEY = "dermatox-focus-point";

  async function send(body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({ message: "Not saved." }));
      alert(problem.message || "Not saved.");
    }
    window.location.reload();
  }

  function toView(svg, event) {
    const point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    const p = point.matrixTransform(svg.getScreenCTM().inverse());
    return { x: Math.min(100, Math.max(0, Math.round(p.x * 10) / 10)), y: Math.min(100, Math.max(0, Math.round(p.y * 10) / 10)) };
  }

  maps.querySelectorAll("svg.map-svg").forEach((svg) => {
    let dragging = null;
    svg.addEventListener("pointerdown", (event) => {
      const pt = event.target.closest("g.pt");
      if (!pt) return;
      dragging = { pt, moved: false };
      pt.setPointerCapture(event.pointerId);
      event.preventDefault();
    });
    svg.addEventListener("pointermove", (event) => {
      if (!dragging) return;
      const p = toView(svg, event);
      dragging.moved = true;
      dragging.to = p;
      dragging.pt.setAttribute("transform", `translate(${p.x} ${p.y})`);
    });
    svg.addEventListener("pointerup", (event) => {
      if (!dragging) return;
      const { pt, moved, to } = dragging;
      dragging = null;
      if (moved) {
        sessionStorage.setItem(FOCUS_KEY, pt.dataset.id);
        send({ action: "move", id: Number(pt.dataset.id), x: to.x, y: to.y });
      } else {
        pt.focus();
      }
      event.stopPropagation();
    });
    svg.addEventListener("click", (event) => {
      if (event.target.closest("g.pt")) return;
      const p = toView(svg, event);
      send({ action: "add", view: svg.dataset.view, x: p.x, y: p.y });
    });
  });

  maps.addEventListener("keydown", (event) => {
    const pt = event.target.closest("g.pt");
    if (!pt) return;
    const step = event.shiftKey ? 5 : 1;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    sessionStorage.setItem(FOCUS_KEY, pt.dataset.id);
    if (moves[event.key]) {
      const [dx, dy] = moves[event.key];
      send({ action: "move", id: Number(pt.dataset.id), x: +pt.dataset.x + dx, y: +pt.dataset.y + dy });
    } else if (event.key === "+" || event.key === "=") {
      send({ action: "dose", id: Number(pt.dataset.id), delta: 0.5 });
    } else if (event.key === "-") {
      send({ action: "dose", id: Number(pt.dataset.id), delta: -0.5 });
    } else if (event.key === "Delete" || event.key === "Backspace") {
      sessionStorage.removeItem(FOCUS_KEY);
      send({ action: "remove", id: Number(pt.dataset.id) });
    } else {
      return;
    }
    event.preventDefault();
  });

  const keep = sessionStorage.getItem(FOCUS_KEY);
  if (keep) {
    const again = maps.querySelector(`g.pt[data-id="${keep}"]`);
    if (again) again.focus();
  }
})();

/* Zone editor: draw a camera's zones (polygons) and counting lines over its still frame.
 *
 * Points are kept as fractions of the image (0..1 from the top-left), as the server stores
 * them; the server checks every shape when saving and its objections are shown here.
 */
(function () {
  "use strict";
  const { t, api, errorText, fill } = window.Kupol;
  const dialog = document.getElementById("zone-editor");
  if (!dialog) return;
  const canvas = document.getElementById("zone-canvas");
  const ctx = canvas.getContext("2d");
  const lists = { zone: document.getElementById("zone-list"), line: document.getElementById("line-list") };
  const shapeForm = document.getElementById("shape-form");
  const nameInput = document.getElementById("shape-name");
  const kindSelect = document.getElementById("zone-kind");
  const directionSelect = document.getElementById("line-direction");
  const errorBox = document.getElementById("zone-errors");
  const saveButton = dialog.querySelector('[data-action="save"]');
  const DEFAULT_ASPECT = 16 / 9;
  const HIT_PX = 8;
  const COLOURS = { watch: "#4f9cff", restricted: "#ff5252", line: "#ffc107", draft: "#ffffff" };
  const HINTS = { select: "zones.hint_select", zone: "zones.hint_zone", line: "zones.hint_line" };
  const DIRECTIONS = {
    both: "zones.direction_both",
    left_to_right: "zones.direction_left_to_right",
    right_to_left: "zones.direction_right_to_left",
  };
  let state = null;

  // Geometry -----------------------------------------------------------------------------

  function round(v) { return Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000; }

  function pointOf(event) {
    const box = canvas.getBoundingClientRect();
    return [round((event.clientX - box.left) / box.width), round((event.clientY - box.top) / box.height)];
  }

  function px(point) { return [point[0] * canvas.width, point[1] * canvas.height]; }

  function inside(point, polygon) {
    let hit = false;
    for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
      const [xi, yi] = polygon[i];
      const [xj, yj] = polygon[j];
      if ((yi > point[1]) !== (yj > point[1]) &&
        point[0] < (xj - xi) * (point[1] - yi) / (yj - yi) + xi) hit = !hit;
    }
    return hit;
  }

  /** Distance in screen pixels from `point` to the segment a-b. */
  function distance(point, a, b) {
    const box = canvas.getBoundingClientRect();
    const [x, y, ax, ay, bx, by] = [point[0] * box.width, point[1] * box.height,
      a[0] * box.width, a[1] * box.height, b[0] * box.width, b[1] * box.height];
    const length2 = (bx - ax) ** 2 + (by - ay) ** 2;
    const k = length2 ? Math.max(0, Math.min(1, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / length2)) : 0;
    return Math.hypot(x - (ax + k * (bx - ax)), y - (ay + k * (by - ay)));
  }

  function hitTest(point) {
    for (let i = state.lines.length - 1; i >= 0; i -= 1) {
      const line = state.lines[i];
      if (distance(point, line.a, line.b) <= HIT_PX) return { type: "line", index: i };
    }
    for (let i = state.zones.length - 1; i >= 0; i -= 1) {
      if (inside(point, state.zones[i].polygon)) return { type: "zone", index: i };
    }
    return null;
  }

  // Drawing ------------------------------------------------------------------------------

  function background() {
    if (state.image) {
      ctx.drawImage(state.image, 0, 0, canvas.width, canvas.height);
      return;
    }
    ctx.fillStyle = "#2b3644";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = "rgba(255, 255, 255, .12)";
    ctx.lineWidth = 1;
    for (let k = 1; k < 10; k += 1) {
      ctx.beginPath();
      ctx.moveTo(k * canvas.width / 10, 0);
      ctx.lineTo(k * canvas.width / 10, canvas.height);
      ctx.moveTo(0, k * canvas.height / 10);
      ctx.lineTo(canvas.width, k * canvas.height / 10);
      ctx.stroke();
    }
  }

  function label(text, x, y, colour, scale) {
    ctx.font = "600 " + Math.round(12 * scale) + "px sans-serif";
    const width = ctx.measureText(text).width + 8 * scale;
    const height = 17 * scale;
    const left = Math.min(Math.max(0, x), canvas.width - width);
    const top = Math.min(Math.max(0, y - height), canvas.height - height);
    ctx.fillStyle = "rgba(12, 22, 36, .8)";
    ctx.fillRect(left, top, width, height);
    ctx.fillStyle = colour;
    ctx.fillText(text, left + 4 * scale, top + 13 * scale);
  }

  function handles(points, scale) {
    ctx.fillStyle = "#fff";
    points.forEach((p) => {
      const [x, y] = px(p);
      ctx.beginPath();
      ctx.arc(x, y, 4 * scale, 0, 2 * Math.PI);
      ctx.fill();
    });
  }

  function arrow(from, vector, length, scale) {
    const norm = Math.hypot(vector[0], vector[1]) || 1;
    const [ux, uy] = [vector[0] / norm, vector[1] / norm];
    const tip = [from[0] + ux * length, from[1] + uy * length];
    ctx.beginPath();
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(tip[0], tip[1]);
    ctx.moveTo(tip[0] - ux * 7 * scale - uy * 5 * scale, tip[1] - uy * 7 * scale + ux * 5 * scale);
    ctx.lineTo(tip[0], tip[1]);
    ctx.lineTo(tip[0] - ux * 7 * scale + uy * 5 * scale, tip[1] - uy * 7 * scale - ux * 5 * scale);
    ctx.stroke();
  }

  function drawZone(zone, selected, scale) {
    const colour = COLOURS[zone.kind] || COLOURS.watch;
    ctx.beginPath();
    zone.polygon.forEach((p, i) => (i ? ctx.lineTo(...px(p)) : ctx.moveTo(...px(p))));
    ctx.closePath();
    ctx.globalAlpha = selected ? 0.32 : 0.2;
    ctx.fillStyle = colour;
    ctx.fill();
    ctx.globalAlpha = 1;
    ctx.lineWidth = (selected ? 3 : 2) * scale;
    ctx.strokeStyle = selected ? "#fff" : colour;
    ctx.stroke();
    if (selected) handles(zone.polygon, scale);
    const [x, y] = px(zone.polygon[0]);
    label(zone.name, x + 4 * scale, y + 20 * scale, colour, scale);
  }

  function drawLine(line, selected, scale) {
    const [a, b] = [px(line.a), px(line.b)];
    ctx.lineWidth = (selected ? 4 : 3) * scale;
    ctx.strokeStyle = selected ? "#fff" : COLOURS.line;
    ctx.beginPath();
    ctx.moveTo(...a);
    ctx.lineTo(...b);
    ctx.stroke();
    // Sides are named looking from a to b; the right side's normal is (-dy, dx).
    const mid = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
    const right = [-(b[1] - a[1]), b[0] - a[0]];
    ctx.lineWidth = 2 * scale;
    ctx.strokeStyle = COLOURS.line;
    if (line.direction !== "right_to_left") arrow(mid, right, 22 * scale, scale);
    if (line.direction !== "left_to_right") arrow(mid, [-right[0], -right[1]], 22 * scale, scale);
    handles([line.a, line.b], scale);
    label("A", a[0] + 4 * scale, a[1] - 4 * scale, COLOURS.line, scale);
    label("B", b[0] + 4 * scale, b[1] - 4 * scale, COLOURS.line, scale);
    label(line.name, mid[0] + 6 * scale, mid[1] - 8 * scale, COLOURS.line, scale);
  }

  function drawDraft(scale) {
    const points = state.pointer ? state.draft.concat([state.pointer]) : state.draft;
    if (!points.length) return;
    ctx.setLineDash([6 * scale, 4 * scale]);
    ctx.lineWidth = 2 * scale;
    ctx.strokeStyle = COLOURS.draft;
    ctx.beginPath();
    points.forEach((p, i) => (i ? ctx.lineTo(...px(p)) : ctx.moveTo(...px(p))));
    if (state.mode === "zone" && points.length > 2) ctx.closePath();
    ctx.stroke();
    ctx.setLineDash([]);
    handles(state.draft, scale);
  }

  function draw() {
    // Drawn at the screen's own resolution: strokes and labels keep their size in CSS pixels.
    const scale = canvas.width / Math.max(1, canvas.getBoundingClientRect().width);
    background();
    const selected = state.selected || {};
    state.zones.forEach((z, i) => drawZone(z, selected.type === "zone" && selected.index === i, scale));
    state.lines.forEach((l, i) => drawLine(l, selected.type === "line" && selected.index === i, scale));
    drawDraft(scale);
  }

  // The side panel -----------------------------------------------------------------------

  function selectedShape() {
    if (!state.selected) return null;
    const { type, index } = state.selected;
    return (type === "zone" ? state.zones : state.lines)[index] || null;
  }

  function listItem(type, shape, index) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "shape-item";
    button.dataset.type = type;
    button.dataset.index = String(index);
    const chosen = state.selected && state.selected.type === type && state.selected.index === index;
    button.setAttribute("aria-pressed", String(Boolean(chosen)));
    if (state.invalid.has(type + ":" + index)) button.classList.add("has-error");
    const swatch = document.createElement("span");
    swatch.className = "shape-swatch shape-" + (type === "zone" ? shape.kind : "line");
    const name = document.createElement("span");
    name.className = "shape-name";
    name.textContent = shape.name;
    const note = document.createElement("small");
    note.textContent = type === "zone"
      ? t(shape.kind === "restricted" ? "zones.kind_restricted" : "zones.kind_watch")
      : t(DIRECTIONS[shape.direction] || "zones.direction_both");
    button.append(swatch, name, note);
    item.append(button);
    return item;
  }

  function refreshPanel() {
    lists.zone.replaceChildren(...state.zones.map((z, i) => listItem("zone", z, i)));
    lists.line.replaceChildren(...state.lines.map((l, i) => listItem("line", l, i)));
    dialog.querySelector('[data-field="no-zones"]').hidden = state.zones.length > 0;
    dialog.querySelector('[data-field="no-lines"]').hidden = state.lines.length > 0;
    const shape = selectedShape();
    shapeForm.disabled = !shape;
    const type = shape ? state.selected.type : "zone";
    shapeForm.querySelector('[data-for="zone"]').hidden = type !== "zone";
    shapeForm.querySelector('[data-for="line"]').hidden = type !== "line";
    if (shape && document.activeElement !== nameInput) nameInput.value = shape.name;
    if (!shape) nameInput.value = "";
    if (shape && type === "zone") kindSelect.value = shape.kind;
    if (shape && type === "line") directionSelect.value = shape.direction;
    dialog.querySelector('[data-action="delete"]').disabled = !shape;
    dialog.querySelector('[data-action="finish"]').disabled =
      !(state.mode === "zone" && state.draft.length >= 2);
    dialog.querySelectorAll("[data-mode]").forEach((button) => {
      button.setAttribute("aria-pressed", String(button.dataset.mode === state.mode));
    });
    canvas.dataset.mode = state.mode;
    fill(dialog, { hint: t(HINTS[state.mode]) });
  }

  function redraw() {
    refreshPanel();
    draw();
  }

  function select(selection, focusName) {
    state.selected = selection;
    redraw();
    if (selection && focusName) {
      nameInput.focus();
      nameInput.select();
    }
  }

  function setMode(mode) {
    state.mode = mode;
    state.draft = [];
    if (mode !== "select") state.selected = null;
    redraw();
  }

  function freeName(prefix) {
    const taken = new Set(state.zones.concat(state.lines).map((s) => s.name));
    let n = 1;
    while (taken.has(prefix + "-" + n)) n += 1;
    return prefix + "-" + n;
  }

  function finishZone() {
    if (state.mode !== "zone" || state.draft.length < 2) return;
    state.zones.push({ name: freeName("zone"), polygon: state.draft, kind: "watch", classes: null });
    state.draft = [];
    state.mode = "select";
    select({ type: "zone", index: state.zones.length - 1 }, true);
  }

  function deleteSelected() {
    const shape = selectedShape();
    if (!shape) return;
    const { type, index } = state.selected;
    (type === "zone" ? state.zones : state.lines).splice(index, 1);
    state.invalid.clear();
    select(null);
  }

  // Canvas input -------------------------------------------------------------------------

  canvas.addEventListener("click", (event) => {
    if (!state || !state.loaded) return;
    const point = pointOf(event);
    if (state.mode === "zone") {
      if (event.detail > 1) return;  // the second click of a double-click closes the zone
      state.draft.push(point);
      redraw();
    } else if (state.mode === "line") {
      state.draft.push(point);
      if (state.draft.length === 2) {
        const [a, b] = state.draft;
        state.lines.push({ name: freeName("line"), a, b, direction: "both", classes: null });
        state.draft = [];
        state.mode = "select";
        select({ type: "line", index: state.lines.length - 1 }, true);
      } else {
        redraw();
      }
    } else {
      select(hitTest(point));
    }
  });
  canvas.addEventListener("dblclick", finishZone);
  canvas.addEventListener("mousemove", (event) => {
    if (!state || !state.draft.length) return;
    state.pointer = pointOf(event);
    draw();
  });
  canvas.addEventListener("mouseleave", () => {
    if (!state) return;
    state.pointer = null;
    draw();
  });

  dialog.addEventListener("cancel", (event) => {
    if (state && state.draft.length) {  // Escape drops the shape being drawn, not the editor
      event.preventDefault();
      state.draft = [];
      redraw();
    }
  });
  dialog.addEventListener("keydown", (event) => {
    if (!state) return;
    if (event.key === "Enter" && state.mode === "zone" && state.draft.length) {
      event.preventDefault();
      finishZone();
    }
    const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName);
    if ((event.key === "Delete" || event.key === "Backspace") && !typing) deleteSelected();
  });
  dialog.querySelectorAll("[data-mode]").forEach((button) => {
    button.addEventListener("click", () => setMode(button.dataset.mode));
  });
  dialog.querySelector('[data-action="finish"]').addEventListener("click", finishZone);
  dialog.querySelector('[data-action="delete"]').addEventListener("click", deleteSelected);
  dialog.querySelector('[data-action="cancel"]').addEventListener("click", () => dialog.close());
  Object.values(lists).forEach((list) => list.addEventListener("click", (event) => {
    const button = event.target.closest(".shape-item");
    if (!button) return;
    state.mode = "select";
    state.draft = [];
    select({ type: button.dataset.type, index: Number(button.dataset.index) });
  }));
  nameInput.addEventListener("input", () => {
    const shape = selectedShape();
    if (!shape) return;
    shape.name = nameInput.value.trim();
    redraw();
  });
  kindSelect.addEventListener("change", () => {
    const shape = selectedShape();
    if (shape && state.selected.type === "zone") shape.kind = kindSelect.value;
    redraw();
  });
  directionSelect.addEventListener("change", () => {
    const shape = selectedShape();
    if (shape && state.selected.type === "line") shape.direction = directionSelect.value;
    redraw();
  });

  // Loading and saving -------------------------------------------------------------------

  /** "body:zones.0.polygon" → what the user calls that shape, and the rest of the path. */
  function describe(field) {
    const path = String(field || "").replace(/^body:/, "");
    const zone = path.match(/^(?:analytics\.)?zones\.(\d+)(?:\.(.+))?$/);
    const line = path.match(/^analytics\.lines\.(\d+)(?:\.(.+))?$/);
    const found = zone ? ["zone", zone] : line ? ["line", line] : null;
    if (!found) return path;
    const [type, match] = found;
    const index = Number(match[1]);
    state.invalid.add(type + ":" + index);
    const shape = (type === "zone" ? state.zones : state.lines)[index];
    const name = shape ? shape.name : "#" + (index + 1);
    const what = t(type === "zone" ? "zones.error_zone" : "zones.error_line", { name });
    return match[2] ? what + " · " + match[2] : what;
  }

  function showErrors(err) {
    state.invalid.clear();
    const problems = (err && err.problem && err.problem.errors) || [];
    const list = errorBox.querySelector('[data-field="list"]');
    list.replaceChildren(...problems.map((p) => {
      const item = document.createElement("li");
      const where = document.createElement("strong");
      where.textContent = describe(p.field) + ": ";
      item.append(where, document.createTextNode(p.message));
      return item;
    }));
    fill(errorBox, {
      summary: problems.length ? t("zones.save_failed") : errorText(err),
    });
    errorBox.hidden = false;
    redraw();
  }

  function hideErrors() {
    errorBox.hidden = true;
    if (state) state.invalid.clear();
  }

  /** Match the canvas's pixels to its size on screen and the picture's proportions. */
  function sizeCanvas() {
    const aspect = state && state.image
      ? state.image.naturalWidth / state.image.naturalHeight : DEFAULT_ASPECT;
    const width = canvas.getBoundingClientRect().width || 640;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(width * ratio / aspect);
  }

  function loadStill(url, reason) {
    const note = dialog.querySelector('[data-field="no-picture"]');
    note.hidden = !reason;
    note.textContent = reason ? t(reason) : "";
    if (!url) return;
    const image = new Image();
    const mine = state;
    image.addEventListener("load", () => {
      if (state !== mine) return;
      mine.image = image;
      sizeCanvas();
      canvas.dataset.picture = "loaded";
      draw();
    });
    image.addEventListener("error", () => {
      if (state !== mine) return;
      note.textContent = t("zones.no_picture_pipeline");
      note.hidden = false;
    });
    image.src = url;
  }

  async function save() {
    if (!state || !state.loaded) return;
    const zones = state.zones.map((z) => ({
      name: z.name, polygon: z.polygon, kind: z.kind, classes: z.classes === undefined ? null : z.classes,
    }));
    const analytics = Object.assign({}, state.analytics);
    if (state.lines.length || "lines" in analytics) {
      analytics.lines = state.lines.map((l) => ({
        name: l.name, a: l.a, b: l.b, direction: l.direction,
        classes: l.classes === undefined ? null : l.classes,
      }));
    }
    saveButton.disabled = true;
    hideErrors();
    try {
      await api("/api/cameras/" + encodeURIComponent(state.camera.id), {
        method: "PATCH", body: { zones, analytics },
      });
      const done = state.onSaved;
      dialog.close();
      if (done) done();
    } catch (err) {
      if (err.status === 401) return;
      showErrors(err);
    } finally {
      saveButton.disabled = false;
    }
  }
  saveButton.addEventListener("click", save);
  dialog.addEventListener("close", () => { state = null; });
  window.addEventListener("resize", () => {
    if (!state) return;
    sizeCanvas();
    draw();
  });

  /** Open the editor on a camera: `still` is the URL of its frame (or null, with `reason`). */
  async function open(options) {
    state = {
      camera: options.camera, onSaved: options.onSaved, loaded: false, image: null,
      analytics: {}, zones: [], lines: [], selected: null, mode: "select", draft: [],
      pointer: null, invalid: new Set(),
    };
    const mine = state;
    hideErrors();
    delete canvas.dataset.picture;
    delete canvas.dataset.ready;
    fill(dialog, { title: t("zones.title", { name: options.camera.name }) });
    saveButton.disabled = true;
    if (!dialog.open) dialog.showModal();
    sizeCanvas();
    redraw();
    loadStill(options.still, options.reason);
    try {
      const camera = await api("/api/cameras/" + encodeURIComponent(options.camera.id));
      if (state !== mine) return;
      const analytics = Object.assign({}, camera.analytics || {});
      mine.analytics = analytics;
      mine.zones = (camera.zones || []).map((z) => Object.assign({}, z, { polygon: z.polygon.slice() }));
      mine.lines = (analytics.lines || []).map((l) => Object.assign({ direction: "both" }, l));
      mine.loaded = true;
      canvas.dataset.ready = "true";
      saveButton.disabled = false;
      redraw();
    } catch (err) {
      if (state === mine) showErrors(err);
    }
  }

  window.KupolZones = { open };
})();

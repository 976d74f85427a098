/* Camera map: tooltips, camera details, zoom and pan, live highlighting of cameras in alert. */
(function () {
  "use strict";
  const { t, fill, live, pageData, fmtTime } = window.Kupol;
  const data = pageData();
  const svg = document.getElementById("map");
  const wrap = svg.parentElement;
  const tip = document.getElementById("map-tip");
  const details = document.getElementById("camera-details");
  const cameras = new Map(data.cameras.map((c) => [c.id, c]));
  const alerts = new Map(data.alerts.map((a) => [a.id, a]));
  const regions = data.regions || {};
  const W = Number(svg.dataset.width);
  const H = Number(svg.dataset.height);
  const SEVERITY = ["low", "medium", "high", "critical"];
  const MAX_ZOOM = 60;
  let view = { x: 0, y: 0, w: W, h: H };
  let selected = null;

  const markers = () => Array.from(svg.querySelectorAll(".marker"));

  function openAlertsOf(id) {
    return Array.from(alerts.values())
      .filter((a) => a.camera_id === id && a.status !== "closed")
      .sort((a, b) => Date.parse(b.raised_at) - Date.parse(a.raised_at));
  }

  function highlight() {
    markers().forEach((marker) => {
      const open = openAlertsOf(marker.dataset.cameraId);
      const worst = open.reduce((w, a) => Math.max(w, SEVERITY.indexOf(a.severity)), -1);
      marker.classList.toggle("alerting", open.length > 0);
      marker.dataset.severity = worst >= 0 ? SEVERITY[worst] : "";
    });
  }

  function applyView() {
    svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].join(" "));
    const scale = view.w / W;  // markers keep their size on screen whatever the zoom
    markers().forEach((m) => m.setAttribute("transform",
      "translate(" + m.dataset.x + " " + m.dataset.y + ") scale(" + scale + ")"));
  }

  /** Zoom by `factor` keeping (cx, cy) where it is on screen, or centring it. */
  function zoom(factor, cx, cy, centre) {
    const w = Math.min(W, Math.max(W / MAX_ZOOM, view.w / factor));
    const h = w * H / W;
    const fx = cx === undefined || centre ? 0.5 : (cx - view.x) / view.w;
    const fy = cy === undefined || centre ? 0.5 : (cy - view.y) / view.h;
    const px = cx === undefined ? view.x + view.w / 2 : cx;
    const py = cy === undefined ? view.y + view.h / 2 : cy;
    view = clamp({ x: px - fx * w, y: py - fy * h, w, h });
    applyView();
  }

  function clamp(v) {
    return { x: Math.min(Math.max(v.x, 0), W - v.w), y: Math.min(Math.max(v.y, 0), H - v.h),
      w: v.w, h: v.h };
  }

  function toSvg(clientX, clientY) {
    const point = new DOMPoint(clientX, clientY).matrixTransform(svg.getScreenCTM().inverse());
    return [point.x, point.y];
  }

  function showTip(marker, event) {
    const camera = cameras.get(marker.dataset.cameraId);
    if (!camera) return;
    fill(tip, { name: camera.name, id: camera.id });
    const box = wrap.getBoundingClientRect();
    const at = event && event.clientX !== undefined ? event : marker.getBoundingClientRect();
    const x = (at.clientX !== undefined ? at.clientX : at.left + at.width / 2) - box.left;
    const y = (at.clientY !== undefined ? at.clientY : at.top) - box.top;
    tip.hidden = false;
    tip.style.left = Math.min(x + 14, box.width - tip.offsetWidth - 4) + "px";
    tip.style.top = Math.max(y - tip.offsetHeight - 10, 4) + "px";
  }

  function regionLabel(code) {
    if (!code) return null;
    return regions[code] ? code + " · " + regions[code] : code;
  }

  function describe(camera) {
    const card = details.querySelector('[data-field="card"]');
    details.querySelector('[data-field="empty"]').hidden = true;
    card.hidden = false;
    fill(card, {
      name: camera.name, id: camera.id, kind: t("kind." + camera.kind),
      coordinates: camera.latitude.toFixed(5) + ", " + camera.longitude.toFixed(5),
      region: regionLabel(camera.region_code),
      heading: camera.heading_deg === null ? null : camera.heading_deg + "°",
      state: t(camera.enabled ? "camera.enabled" : "camera.disabled"),
    });
    const search = card.querySelector('[data-field="search"]');
    if (search) search.href = "/search?camera_id=" + encodeURIComponent(camera.id);
    const list = card.querySelector('[data-field="alerts"]');
    if (!list) return;
    const open = openAlertsOf(camera.id);
    list.replaceChildren(...open.map((a) => {
      const item = document.createElement("li");
      item.dataset.severity = a.severity;
      item.textContent = t("map.alert_line", { id: a.id, rule: a.rule_name,
        severity: t("severity." + a.severity), status: t("status." + a.status),
        time: fmtTime(a.raised_at) });
      return item;
    }));
    card.querySelector('[data-field="no-alerts"]').hidden = open.length > 0;
  }

  function select(marker) {
    markers().forEach((m) => m.classList.toggle("selected", m === marker));
    selected = marker.dataset.cameraId;
    const camera = cameras.get(selected);
    if (!camera) return;
    svg.querySelectorAll(".region").forEach((region) => region.classList.toggle(
      "selected-region", region.dataset.region === camera.region_code));
    describe(camera);
  }

  markers().forEach((marker) => {
    marker.addEventListener("pointerenter", (event) => showTip(marker, event));
    marker.addEventListener("pointermove", (event) => showTip(marker, event));
    marker.addEventListener("pointerleave", () => { tip.hidden = true; });
    marker.addEventListener("focus", () => showTip(marker));
    marker.addEventListener("blur", () => { tip.hidden = true; });
    marker.addEventListener("click", () => select(marker));
    marker.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        select(marker);
      }
    });
  });

  document.querySelectorAll("[data-zoom]").forEach((button) => {
    button.addEventListener("click", () => {
      if (button.dataset.zoom === "reset") {
        view = { x: 0, y: 0, w: W, h: H };
        applyView();
      } else {  // around the selected camera, if any: that is usually what one wants closer
        const marker = selected && svg.querySelector('.marker[data-camera-id="' + selected + '"]');
        const factor = button.dataset.zoom === "in" ? 2 : 0.5;
        if (marker) zoom(factor, Number(marker.dataset.x), Number(marker.dataset.y), true);
        else zoom(factor);
      }
    });
  });

  svg.addEventListener("wheel", (event) => {
    event.preventDefault();
    const [x, y] = toSvg(event.clientX, event.clientY);
    zoom(event.deltaY < 0 ? 1.4 : 1 / 1.4, x, y);
  }, { passive: false });

  let drag = null;
  svg.addEventListener("pointerdown", (event) => {
    if (event.target.closest(".marker")) return;
    drag = { x: event.clientX, y: event.clientY, view };
    svg.setPointerCapture(event.pointerId);
    svg.classList.add("dragging");
  });
  svg.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const unit = view.w / svg.clientWidth;
    view = clamp({ x: drag.view.x - (event.clientX - drag.x) * unit,
      y: drag.view.y - (event.clientY - drag.y) * unit, w: view.w, h: view.h });
    applyView();
  });
  const endDrag = () => { drag = null; svg.classList.remove("dragging"); };
  svg.addEventListener("pointerup", endDrag);
  svg.addEventListener("pointercancel", endDrag);

  function onAlertChanged(change) {
    const previous = alerts.get(change.alert_id) || {};
    alerts.set(change.alert_id, Object.assign({}, previous, change, { id: change.alert_id }));
    highlight();
    if (selected && cameras.has(selected)) describe(cameras.get(selected));
  }

  highlight();
  if (data.live) live({ AlertChanged: onAlertChanged });
})();

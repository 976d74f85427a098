/* The fleet: a live map of the units (drones, robot dogs, patrols) with their recent tracks, the
 * streets they are routed over, the geofences, the missions under way and the dispatch routes;
 * the units' state and advisories; dispatch — click a place, see the units ranked by their time
 * to it, send one; and, for those who manage the fleet, the mission planner, patrol plans for a
 * shift (drawn, then saved as missions) and geofences drawn on the map. */
(function () {
  "use strict";
  const { t, api, errorText, fmtTime, pageData, row } = window.Kupol;
  const data = pageData();
  const SVG_NS = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  const svg = $("fl-map");
  const W = 760, H = 520, PAD = 20;
  let box = null;       // {minLat, maxLat, minLon, maxLon}
  let roads = [];
  let fences = [];
  let units = [];
  let tracks = new Map();
  let dispatches = [];
  let target = null;
  let planned = [];     // waypoints clicked for a mission: [lat, lon]
  let zoneDraft = [];   // corners clicked for a geofence: [lat, lon]
  let missions = [];    // missions planned or under way (their paths drawn)
  let patrolPlan = null;
  const planning = () => $("fl-plan-mode") && $("fl-plan-mode").checked;
  const drawingZone = () => $("fl-zone-mode") && $("fl-zone-mode").checked;

  function el(name, attrs, text) {
    const node = document.createElementNS(SVG_NS, name);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function fail(err) {
    $("fl-error").textContent = errorText(err);
    $("fl-error").hidden = false;
  }

  /* A flat projection of the area everything lies in. */
  function fit() {
    const points = [];
    roads.forEach((s) => { points.push([s[0], s[1]], [s[2], s[3]]); });
    fences.forEach((f) => f.polygon.forEach((p) => points.push(p)));
    units.forEach((u) => { points.push(u.home); if (u.position) points.push(u.position); });
    if (!points.length) return null;
    const lats = points.map((p) => p[0]), lons = points.map((p) => p[1]);
    const b = { minLat: Math.min(...lats), maxLat: Math.max(...lats),
      minLon: Math.min(...lons), maxLon: Math.max(...lons) };
    const k = Math.cos(((b.minLat + b.maxLat) / 2) * Math.PI / 180);
    const spanX = Math.max(1e-4, (b.maxLon - b.minLon) * k), spanY = Math.max(1e-4, b.maxLat - b.minLat);
    b.scale = Math.min((W - 2 * PAD) / spanX, (H - 2 * PAD) / spanY);
    b.k = k;
    return b;
  }
  function xy(p) {
    return [PAD + (p[1] - box.minLon) * box.k * box.scale, H - PAD - (p[0] - box.minLat) * box.scale];
  }
  function latlon(x, y) {
    return [box.minLat + (H - PAD - y) / box.scale, box.minLon + (x - PAD) / (box.k * box.scale)];
  }
  function path(points) {
    return points.map((p, i) => (i ? "L" : "M") + xy(p).map((v) => v.toFixed(1)).join(",")).join(" ");
  }

  function draw() {
    if (!box) box = fit();
    if (!box) { svg.replaceChildren(); return; }
    const parts = [];
    roads.forEach((s) => {
      const [x1, y1] = xy([s[0], s[1]]), [x2, y2] = xy([s[2], s[3]]);
      parts.push(el("line", { x1, y1, x2, y2, class: s[4] ? "road footpath" : "road" }));
    });
    fences.filter((f) => f.active).forEach((f) => {
      const shape = el("path", { d: path(f.polygon) + " Z", class: "fence fence-" + f.kind });
      shape.append(el("title", {}, f.name));
      parts.push(shape);
    });
    dispatches.filter((d) => d.status === "en_route").forEach((d) => {
      parts.push(el("path", { d: path(d.route), class: "dispatch-route" }));
      const [x, y] = xy(d.target);
      parts.push(el("circle", { cx: x, cy: y, r: 7, class: "incident" }));
    });
    missions.filter((m) => ["planned", "uploaded", "active"].includes(m.status) && m.path)
      .forEach((m) => {
        const line = el("path", { d: path(m.path), class: "mission-path mission-" + m.status });
        line.append(el("title", {}, m.callsign + " · " + m.name));
        parts.push(line);
      });
    if (patrolPlan) {
      patrolPlan.routes.forEach((r, i) => {
        if (r.path.length > 1) {
          parts.push(el("path", { d: path(r.path), class: "patrol-route patrol-" + (i % 4) }));
        }
        r.places.forEach((p) => {
          const [x, y] = xy(p);
          parts.push(el("circle", { cx: x, cy: y, r: 3.5, class: "patrol-place patrol-" + (i % 4) }));
        });
      });
    }
    tracks.forEach((points) => {
      if (points.length > 1) parts.push(el("path", { d: path(points), class: "track" }));
    });
    units.forEach((u) => {
      const where = u.position || u.home;
      const [x, y] = xy(where);
      const dot = el("circle", { cx: x, cy: y, r: 6,
        class: "unit unit-" + u.kind + (u.advisories.length ? " unit-alert" : "") +
          (u.position ? "" : " unit-home"),
        "data-callsign": u.callsign });
      dot.append(el("title", {}, u.callsign + " · " + t("fleet.status." + u.status)));
      parts.push(dot);
      parts.push(el("text", { x: x + 8, y: y - 6, class: "unit-label" }, u.callsign));
    });
    if (planned.length) {
      const unit = units.find((u) => u.callsign === $("fl-plan-unit").value);
      const way = unit ? [unit.home, ...planned, unit.home] : planned;
      parts.push(el("path", { d: path(way), class: "mission-draft" }));
      planned.forEach((p, i) => {
        const [x, y] = xy(p);
        parts.push(el("circle", { cx: x, cy: y, r: 4, class: "waypoint" }));
        parts.push(el("text", { x: x + 6, y: y + 4, class: "unit-label" }, String(i + 1)));
      });
    }
    if (zoneDraft.length) {
      parts.push(el("path", { d: path(zoneDraft) + (zoneDraft.length > 2 ? " Z" : ""),
        class: "zone-draft fence-" + $("fl-zone-kind").value }));
      zoneDraft.forEach((p) => {
        const [x, y] = xy(p);
        parts.push(el("circle", { cx: x, cy: y, r: 3, class: "zone-corner" }));
      });
    }
    if (target) {
      const [x, y] = xy(target);
      parts.push(el("path", { d: `M${x - 7},${y} L${x + 7},${y} M${x},${y - 7} L${x},${y + 7}`,
        class: "target" }));
    }
    svg.replaceChildren(...parts);
  }

  function unitLink(callsign) {
    const a = document.createElement("a");
    a.href = "/fleet/units/" + encodeURIComponent(callsign);
    a.textContent = callsign;
    return a;
  }

  function showUnits() {
    $("fl-units").tBodies[0].replaceChildren(...units.map((u) =>
      row([unitLink(u.callsign), t("fleet.kind." + u.kind),
        t("fleet.status." + u.status), t("fleet.link." + u.link),
        u.battery_pct === null ? "" : Math.round(u.battery_pct) + " %",
        u.speed_mps === null ? "" : u.speed_mps.toFixed(1) + " m/s",
        u.last_seen ? fmtTime(u.last_seen) : "",
        u.advisories.map((a) => t("fleet.advisory." + a)).join(", ")])));
    $("fl-none").hidden = units.length > 0;
  }

  function showDispatches() {
    $("fl-dispatches").tBodies[0].replaceChildren(...dispatches.slice(0, 20).map((d) =>
      row([d.callsign, fmtTime(d.dispatched_at),
        Math.round(d.eta_s) + " s", t("fleet.how." + d.how), t("fleet.dstatus." + d.status),
        d.arrived_at ? fmtTime(d.arrived_at) : ""])));
  }

  async function refresh() {
    try {
      [units, dispatches] = await Promise.all([api("/api/fleet/units"),
        api("/api/fleet/dispatches")]);
      $("fl-error").hidden = true;
      showUnits();
      showDispatches();
      draw();
    } catch (err) {
      fail(err);
    }
  }
  async function refreshTracks() {
    const since = new Date(Date.now() - 10 * 60 * 1000).toISOString();
    const heard = units.filter((u) => u.last_seen);
    try {
      const all = await Promise.all(heard.map((u) => api("/api/fleet/units/" +
        encodeURIComponent(u.callsign) + "/track?since=" + encodeURIComponent(since))));
      tracks = new Map(heard.map((u, i) => [u.callsign, all[i].map((p) => [p.lat, p.lon])]));
      draw();
    } catch (err) {
      fail(err);
    }
  }

  /* Dispatch: a click on the map is the place; the units are ranked by their time to it. */
  svg.addEventListener("click", async (event) => {
    if (!box) return;
    const rect = svg.getBoundingClientRect();
    const x = (event.clientX - rect.left) * (W / rect.width);
    const y = (event.clientY - rect.top) * (H / rect.height);
    if (planning()) {  // a waypoint for the mission being planned, not a dispatch
      planned.push(latlon(x, y));
      $("fl-plan-count").textContent = t("fleet.waypoints", { n: planned.length });
      draw();
      return;
    }
    if (drawingZone()) {  // a corner of the geofence being drawn
      zoneDraft.push(latlon(x, y));
      $("fl-zone-count").textContent = t("fleet.corners", { n: zoneDraft.length });
      draw();
      return;
    }
    target = latlon(x, y);
    $("fl-target").textContent = t("fleet.target", { lat: target[0].toFixed(5),
      lon: target[1].toFixed(5) });
    draw();
    try {
      const ranked = await api("/api/fleet/dispatch/rank", { method: "POST",
        body: { lat: target[0], lon: target[1] } });
      $("fl-candidates").tBodies[0].replaceChildren(...ranked.map((c) => {
        let action = "";
        if (data.can_dispatch) {
          action = document.createElement("button");
          action.type = "button";
          action.className = "btn btn-small";
          action.textContent = t("fleet.send");
          action.dataset.callsign = c.callsign;
          action.addEventListener("click", async () => {
            try {
              await api("/api/fleet/dispatches", { method: "POST",
                body: { callsign: c.callsign, lat: target[0], lon: target[1] } });
              $("fl-candidates").tBodies[0].replaceChildren();
              await refresh();
            } catch (err) {
              fail(err);
            }
          });
        }
        return row([c.callsign, t("fleet.kind." + c.kind),
          Math.round(c.eta_s) + " s", (c.metres / 1000).toFixed(2) + " km",
          t("fleet.how." + c.how), action]);
      }));
    } catch (err) {
      fail(err);
    }
  });

  /* The mission planner: waypoints clicked on the map, checked and saved by the server. */
  if ($("fl-plan")) {
    $("fl-plan-clear").addEventListener("click", () => {
      planned = [];
      $("fl-plan-count").textContent = "";
      $("fl-plan-error").hidden = true;
      draw();
    });
    $("fl-plan-unit").addEventListener("change", draw);
    $("fl-plan").addEventListener("submit", async (event) => {
      event.preventDefault();
      $("fl-plan-error").hidden = true;
      $("fl-plan-result").hidden = true;
      const alt = Number($("fl-plan-alt").value);
      const speed = $("fl-plan-speed").value;
      const body = { callsign: $("fl-plan-unit").value, name: $("fl-plan-name").value.trim(),
        waypoints: planned.map((p) => [p[0], p[1], alt]) };
      if (speed) body.speed_mps = Number(speed);
      try {
        const m = await api("/api/fleet/missions", { method: "POST", body });
        const link = document.createElement("a");
        link.href = "/api/fleet/missions/" + m.id + "/plan";
        link.textContent = t("fleet.download_plan");
        $("fl-plan-result").replaceChildren(t("fleet.mission_saved", { id: m.id,
          km: (m.length_m / 1000).toFixed(2), min: Math.round(m.duration_s / 60) }), " ", link);
        $("fl-plan-result").hidden = false;
        planned = [];
        $("fl-plan-count").textContent = "";
        draw();
      } catch (err) {
        $("fl-plan-error").textContent = errorText(err);
        $("fl-plan-error").hidden = false;
      }
    });
  }

  /* One way of clicking the map at a time: waypoints, zone corners, or (neither) dispatch. */
  [["fl-plan-mode", "fl-zone-mode"], ["fl-zone-mode", "fl-plan-mode"]].forEach(([a, b]) => {
    if ($(a)) $(a).addEventListener("change", () => { if ($(a).checked) $(b).checked = false; });
  });

  async function loadMissions() {
    try {
      missions = await api("/api/fleet/missions");
      draw();
    } catch (err) {
      fail(err);
    }
  }

  /* Patrol plans: routes for the ticked ground units over the shift, past the riskiest streets;
   * drawn on the map, then saved as one mission per unit (each checked again by the server). */
  if ($("fl-patrol")) {
    const showRoutes = (saved) => {
      $("fl-patrol-routes").tBodies[0].replaceChildren(...patrolPlan.routes.map((r) =>
        row([r.callsign, String(r.places.length), Math.round(r.seconds / 60) + " min",
          r.risk.toFixed(1), saved[r.callsign] || ""])));
      $("fl-patrol-routes").hidden = false;
    };
    $("fl-patrol").addEventListener("submit", async (event) => {
      event.preventDefault();
      $("fl-patrol-error").hidden = true;
      const callsigns = [...$("fl-patrol-units").querySelectorAll("input:checked")]
        .map((box) => box.value);
      try {
        patrolPlan = await api("/api/fleet/patrols/plan", { method: "POST",
          body: { callsigns, shift_minutes: Number($("fl-patrol-shift").value) } });
        $("fl-patrol-summary").textContent = t("fleet.patrol_summary", {
          covered: patrolPlan.risk_covered.toFixed(1),
          available: patrolPlan.risk_available.toFixed(1), seed: patrolPlan.seed });
        $("fl-patrol-summary").hidden = false;
        $("fl-patrol-save").disabled = false;
        showRoutes({});
        draw();
      } catch (err) {
        $("fl-patrol-error").textContent = errorText(err);
        $("fl-patrol-error").hidden = false;
      }
    });
    $("fl-patrol-save").addEventListener("click", async () => {
      if (!patrolPlan) return;
      $("fl-patrol-error").hidden = true;
      const saved = {};
      const errors = [];
      const name = t("fleet.patrol_mission_name", { seed: patrolPlan.seed });
      for (const r of patrolPlan.routes.filter((route) => route.places.length)) {
        try {
          const m = await api("/api/fleet/missions", { method: "POST", body: {
            callsign: r.callsign, name, speed_mps: r.speed_mps,
            waypoints: r.places.map((p) => [p[0], p[1]]) } });
          saved[r.callsign] = t("fleet.mission_n", { id: m.id });
        } catch (err) {
          errors.push(r.callsign + ": " + errorText(err));
        }
      }
      showRoutes(saved);
      $("fl-patrol-save").disabled = true;
      if (errors.length) {
        $("fl-patrol-error").textContent = errors.join("; ");
        $("fl-patrol-error").hidden = false;
      }
      patrolPlan = null;
      await loadMissions();
    });
  }

  /* Geofences: corners clicked on the map, checked and saved by the server; switched on/off. */
  function showZones() {
    if (!$("fl-zones")) return;
    $("fl-zones").tBodies[0].replaceChildren(...fences.map((f) => {
      const toggle = document.createElement("button");
      toggle.type = "button";
      toggle.className = "btn btn-small";
      toggle.textContent = f.active ? t("fleet.zone_switch_off") : t("fleet.zone_switch_on");
      toggle.addEventListener("click", async () => {
        try {
          await api("/api/fleet/geofences/" + encodeURIComponent(f.name) + "/active",
            { method: "PUT", body: { active: !f.active } });
          await loadZones();
        } catch (err) {
          fail(err);
        }
      });
      return row([f.name, t("fleet.zone." + f.kind), String(f.polygon.length), f.created_by,
        toggle]);
    }));
  }
  async function loadZones() {
    fences = await api("/api/fleet/geofences");
    showZones();
    draw();
  }
  if ($("fl-zone")) {
    $("fl-zone-kind").addEventListener("change", draw);
    $("fl-zone-clear").addEventListener("click", () => {
      zoneDraft = [];
      $("fl-zone-count").textContent = "";
      $("fl-zone-error").hidden = true;
      draw();
    });
    $("fl-zone").addEventListener("submit", async (event) => {
      event.preventDefault();
      $("fl-zone-error").hidden = true;
      try {
        await api("/api/fleet/geofences", { method: "POST", body: {
          name: $("fl-zone-name").value.trim(), kind: $("fl-zone-kind").value,
          polygon: zoneDraft } });
        zoneDraft = [];
        $("fl-zone-count").textContent = "";
        $("fl-zone-name").value = "";
        $("fl-zone-mode").checked = false;
        await loadZones();
      } catch (err) {
        $("fl-zone-error").textContent = errorText(err);
        $("fl-zone-error").hidden = false;
      }
    });
  }

  (async () => {
    try {
      const [r, f] = await Promise.all([api("/api/fleet/roads"), api("/api/fleet/geofences")]);
      roads = r.segments;
      fences = f;
      showZones();
    } catch (err) {
      fail(err);
    }
    await refresh();
    await loadMissions();
    if ($("fl-patrol-units")) {
      $("fl-patrol-units").append(...units.filter((u) => u.kind !== "drone").map((u) => {
        const label = document.createElement("label");
        label.className = "field field-check";
        const box = document.createElement("input");
        box.type = "checkbox";
        box.value = u.callsign;
        box.checked = true;
        label.append(box, " " + u.callsign + " (" + t("fleet.kind." + u.kind) + ")");
        return label;
      }));
    }
    if ($("fl-plan-unit")) {
      $("fl-plan-unit").replaceChildren(...units.map((u) => {
        const option = document.createElement("option");
        option.value = u.callsign;
        option.textContent = u.callsign + " (" + t("fleet.kind." + u.kind) + ")";
        return option;
      }));
    }
    await refreshTracks();
    setInterval(refresh, 2000);
    setInterval(refreshTracks, 5000);
    setInterval(loadMissions, 15000);
  })();
})();

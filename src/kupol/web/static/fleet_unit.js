/* One unit: its state, its camera's live view (under a stated purpose, audited), charts of its
 * battery, altitude and speed over the last half hour, its missions (with the QGroundControl
 * plan, the upload to a drone's autopilot, and their status) and its dispatches. */
(function () {
  "use strict";
  const { t, api, errorText, fmtTime, pageData, row, whyQuery } = window.Kupol;
  const data = pageData();
  const SVG_NS = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  const callsign = data.callsign;
  const enc = encodeURIComponent(callsign);
  let unit = null;

  function fail(err) {
    $("fu-error").textContent = errorText(err);
    $("fu-error").hidden = false;
  }
  function fact(label, value) {
    const li = document.createElement("li");
    li.textContent = label + ": " + (value === null || value === undefined || value === "" ? "—" : value);
    return li;
  }

  function chart(title, points, unitText) {
    const W = 640, H = 120, P = 28;
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("class", "telemetry-chart");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", title);
    const values = points.map((p) => p[1]);
    const t0 = points[0][0], t1 = points[points.length - 1][0] || t0 + 1;
    const lo = Math.min(...values), hi = Math.max(...values);
    const span = hi - lo || 1;
    const line = document.createElementNS(SVG_NS, "polyline");
    line.setAttribute("points", points.map(([x, y]) =>
      `${(P + (x - t0) / Math.max(1, t1 - t0) * (W - 2 * P)).toFixed(1)},` +
      `${(H - P / 2 - (y - lo) / span * (H - P)).toFixed(1)}`).join(" "));
    const label = document.createElementNS(SVG_NS, "text");
    label.setAttribute("x", 4);
    label.setAttribute("y", 12);
    label.textContent = `${title}: ${values[values.length - 1].toFixed(1)} ${unitText} ` +
      `(${lo.toFixed(1)}–${hi.toFixed(1)})`;
    svg.append(line, label);
    return svg;
  }

  async function load() {
    try {
      unit = await api("/api/fleet/units/" + enc);
      $("fu-summary").textContent = [t("fleet.kind." + unit.kind), t("fleet.status." + unit.status),
        t("fleet.link." + unit.link)].join(" · ");
      $("fu-facts").replaceChildren(
        fact(t("fleet.crew"), unit.crew),
        fact(t("fleet.capabilities"), unit.capabilities.join(", ")),
        fact(t("fleet.home"), unit.home.map((v) => v.toFixed(5)).join(", ")),
        fact(t("fleet.battery"), unit.battery_pct === null ? null : Math.round(unit.battery_pct) + " %"),
        fact(t("fleet.seen"), unit.last_seen ? fmtTime(unit.last_seen) : null),
        fact(t("fleet.advisories"), unit.advisories.map((a) => t("fleet.advisory." + a)).join(", ")));
      $("fu-no-camera").hidden = Boolean(unit.camera_id);
      if ($("fu-video-form")) $("fu-video-form").hidden = !unit.camera_id;
    } catch (err) {
      fail(err);
    }
  }

  async function charts() {
    const since = new Date(Date.now() - 30 * 60 * 1000).toISOString();
    try {
      const track = await api("/api/fleet/units/" + enc + "/track?since=" + encodeURIComponent(since));
      const box = $("fu-charts");
      $("fu-no-track").hidden = track.length > 1;
      if (track.length < 2) { box.replaceChildren(); return; }
      const series = (key) => track.filter((p) => p[key] !== null)
        .map((p) => [Date.parse(p.at) / 1000, p[key]]);
      const out = [];
      [["battery_pct", "fleet.chart.battery", "%"], ["alt_m", "fleet.chart.altitude", "m"],
        ["speed_mps", "fleet.chart.speed", "m/s"]].forEach(([key, label, u]) => {
        const points = series(key);
        if (points.length > 1) out.push(chart(t(label), points, u));
      });
      box.replaceChildren(...out);
    } catch (err) {
      fail(err);
    }
  }

  async function missions() {
    try {
      const [rows, sent] = await Promise.all([api("/api/fleet/missions?callsign=" + enc),
        api("/api/fleet/dispatches")]);
      $("fu-missions").tBodies[0].replaceChildren(...rows.map((m) => {
        const actions = document.createElement("span");
        const plan = document.createElement("a");
        plan.href = "/api/fleet/missions/" + m.id + "/plan";
        plan.textContent = t("fleet.download_plan");
        actions.append(plan);
        if (data.can_manage && unit && unit.mavlink_sysid !== null && m.status === "planned") {
          const upload = document.createElement("button");
          upload.type = "button";
          upload.className = "btn btn-small";
          upload.textContent = t("fleet.upload");
          upload.addEventListener("click", async () => {
            upload.disabled = true;
            try {
              await api("/api/fleet/missions/" + m.id + "/upload", { method: "POST" });
              await missions();
            } catch (err) {
              fail(err);
              upload.disabled = false;
            }
          });
          actions.append(" ", upload);
        }
        return row([m.id, m.name,
          (m.length_m / 1000).toFixed(2) + " km", Math.round(m.duration_s / 60) + " min",
          t("fleet.mstatus." + m.status), actions]);
      }));
      $("fu-dispatches").tBodies[0].replaceChildren(...sent.filter((d) => d.callsign === callsign)
        .map((d) => row([fmtTime(d.dispatched_at),
          Math.round(d.eta_s) + " s", t("fleet.how." + d.how), t("fleet.dstatus." + d.status),
          d.arrived_at ? fmtTime(d.arrived_at) : ""])));
    } catch (err) {
      fail(err);
    }
  }

  if ($("fu-video-form")) {
    $("fu-video-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const purpose = $("fu-purpose").value.trim();
      if (purpose.length < 5 || !unit || !unit.camera_id) return;
      $("fu-video").src = "/api/cameras/" + encodeURIComponent(unit.camera_id) +
        "/live.mjpeg?" + whyQuery({ purpose });
      $("fu-video").hidden = false;
    });
  }

  (async () => {
    await load();
    await Promise.all([charts(), missions()]);
    setInterval(load, 3000);
    setInterval(charts, 5000);
  })();
})();

/* A crossing's counts per day and local hour (pedestrians, vehicles, near misses, warning
 * activations and their latency), and every rule's decisions per camera: counts only. */
(function () {
  "use strict";
  const { t, api, errorText, pageData } = window.Kupol;
  const data = pageData();
  const form = document.getElementById("crossing-form");
  const select = document.getElementById("crossing");
  const error = document.getElementById("crossing-error");
  const report = document.getElementById("crossing-report");

  data.crossings.forEach((c) => {
    const option = document.createElement("option");
    option.value = c.crossing_id;
    option.textContent = c.crossing_id + " — " + (data.cameras[c.camera_id] || c.camera_id);
    select.append(option);
  });
  document.getElementById("no-crossings").hidden = data.crossings.length > 0;

  function cells(row, label) {
    const tr = document.createElement("tr");
    const values = [label, row.pedestrians, row.vehicles, row.near_misses, row.activations,
      row.latency_p95_ms === null ? t("common.none") :
        t("crossings.latency_value", { p50: row.latency_p50_ms, p95: row.latency_p95_ms })];
    values.forEach((value, i) => {
      const td = document.createElement("td");
      td.textContent = String(value);
      if (i > 0) td.className = "num";
      tr.append(td);
    });
    return tr;
  }

  async function load() {
    if (!select.value) return;
    const query = new URLSearchParams();
    ["first", "last"].forEach((name) => { const v = form.elements[name].value; if (v) query.set(name, v); });
    try {
      const r = await api("/api/traffic/crossings/" + encodeURIComponent(select.value) +
        "/dashboard?" + query.toString());
      error.hidden = true;
      report.hidden = false;
      document.getElementById("crossing-total").textContent = t("crossings.total", {
        pedestrians: r.total.pedestrians, vehicles: r.total.vehicles,
        near_misses: r.total.near_misses, activations: r.total.activations });
      document.querySelector("#days-table tbody").replaceChildren(
        ...r.days.map((d) => cells(d, d.day)));
      document.querySelector("#hours-table tbody").replaceChildren(
        ...r.hours.map((h) => cells(h, h.hour.slice(0, 16).replace("T", " "))));
    } catch (err) {
      error.textContent = errorText(err);
      error.hidden = false;
    }
  }

  async function rules() {
    try {
      const stats = await api("/api/traffic/stats");
      document.querySelector("#rules-table tbody").replaceChildren(...stats.map((s) => {
        const tr = document.createElement("tr");
        const reasons = Object.entries(s.reasons)
          .map(([k, n]) => t("traffic.reason." + k) + ": " + n).join(", ");
        [t("traffic.offence." + s.offence), data.cameras[s.camera_id] || s.camera_id, s.pending,
          s.approved, s.rejected, reasons || t("common.none")].forEach((v, i) => {
          const td = document.createElement("td");
          td.textContent = String(v);
          if (i >= 2 && i <= 4) td.className = "num";
          tr.append(td);
        });
        return tr;
      }));
    } catch (err) {
      error.textContent = errorText(err);
      error.hidden = false;
    }
  }

  form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  load();
  rules();
})();

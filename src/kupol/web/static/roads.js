/* Road-safety analytics: rates by region with their intervals, a breakdown by one dimension,
 * the hot areas on a map (H3 cells drawn as SVG, no tiles), a measure's before/after
 * evaluation, imports, and the report links carrying the same filters. */
(function () {
  "use strict";
  const { t, api, errorText, pageData } = window.Kupol;
  const data = pageData();
  const SVG_NS = "http://www.w3.org/2000/svg";
  const filter = document.getElementById("roads-filter");
  const error = document.getElementById("roads-error");

  function option(select, value, label) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    select.append(o);
  }
  data.sources.forEach((s) => option(document.getElementById("source"), s, s));
  Object.entries(data.regions).forEach(([code, name]) =>
    option(document.getElementById("region"), code, code + " " + name));

  function query(extra) {
    const q = new URLSearchParams();
    ["source", "region", "since", "until"].forEach((name) => {
      const v = filter.elements[name].value;
      if (v) q.set(name, v);
    });
    Object.entries(extra || {}).forEach(([k, v]) => q.set(k, v));
    return q.toString();
  }

  function fmt(n, digits) {
    return n === null || n === undefined ? "—" : Number(n).toLocaleString(undefined,
      { maximumFractionDigits: digits === undefined ? 0 : digits,
        minimumFractionDigits: digits === undefined ? 0 : digits });
  }

  function row(values, numeric) {
    const tr = document.createElement("tr");
    values.forEach((v, i) => {
      const td = document.createElement("td");
      td.textContent = String(v);
      if (numeric && i > 0) td.className = "num";
      tr.append(td);
    });
    return tr;
  }

  function regionName(code) {
    return data.regions[code] ? code + " " + data.regions[code] : code;
  }

  /* Bars with the 95 % interval in each one's tooltip: [{key, value, interval}]. */
  function drawBars(bars, rows) {
    const top = Math.max(1, ...rows.map((x) => x.interval.high));
    bars.replaceChildren(...rows.map((x) => {
      const item = document.createElement("div");
      item.className = "bar";
      item.title = x.key + ": " + fmt(x.value) + " (" + fmt(x.interval.low) + "–" +
        fmt(x.interval.high) + ")";
      const fill = document.createElement("span");
      fill.className = "bar-fill";
      fill.style.height = (100 * x.value / top).toFixed(1) + "%";
      const label = document.createElement("span");
      label.className = "bar-label";
      label.textContent = x.key;
      item.append(fill, label);
      return item;
    }));
  }

  async function breakdown() {
    const by = document.getElementById("breakdown-by").value;
    const measure = filter.elements.measure.value;
    const r = await api("/api/roads/stats?" + query({ by, measure }));
    drawBars(document.getElementById("breakdown-bars"), r.rows);
    return r;
  }

  function drawHotspots(result) {
    const svg = document.getElementById("hotspot-map");
    svg.replaceChildren();
    const points = result.hotspots.flatMap((h) => h.outlines.flat());
    if (!points.length) return;
    const lats = points.map((p) => p[0]);
    const lons = points.map((p) => p[1]);
    const south = Math.min(...lats), north = Math.max(...lats);
    const west = Math.min(...lons), east = Math.max(...lons);
    const k = Math.cos(((south + north) / 2) * Math.PI / 180);
    const w = Math.max((east - west) * k, 1e-6), h = Math.max(north - south, 1e-6);
    const scale = Math.min(560 / w, 360 / h);
    const x = (lon) => 20 + (lon - west) * k * scale;
    const y = (lat) => 20 + (north - lat) * scale;
    result.hotspots.forEach((spot) => {
      spot.outlines.forEach((ring) => {
        const polygon = document.createElementNS(SVG_NS, "polygon");
        polygon.setAttribute("points", ring.map((p) => x(p[1]).toFixed(1) + "," +
          y(p[0]).toFixed(1)).join(" "));
        polygon.setAttribute("class", "hot-cell");
        const title = document.createElementNS(SVG_NS, "title");
        title.textContent = "#" + spot.rank + ": " + spot.accidents + " " + t("roads.accidents");
        polygon.append(title);
        svg.append(polygon);
      });
      const label = document.createElementNS(SVG_NS, "text");
      label.setAttribute("x", x(spot.centre[1]).toFixed(1));
      label.setAttribute("y", y(spot.centre[0]).toFixed(1));
      label.setAttribute("class", "hot-label");
      label.textContent = String(spot.rank);
      svg.append(label);
    });
  }

  async function suggest(accident, cell, linked) {
    try {
      const found = await api("/api/roads/accidents/" + accident.id + "/candidates");
      const list = document.createElement("ul");
      list.className = "candidates";
      if (!found.length) {
        const li = document.createElement("li");
        li.textContent = t("roads.no_candidates");
        list.append(li);
      }
      found.forEach((c) => {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "btn btn-small";
        button.textContent = t("roads.link");
        button.addEventListener("click", async () => {
          try {
            const r = await api("/api/roads/accidents/" + accident.id + "/links",
              { method: "POST", body: { kind: c.kind, id: c.id } });
            linked.textContent = r.links.map((l) => l.kind + " " + l.id).join(", ");
            li.remove();
          } catch (err) {
            error.textContent = errorText(err);
            error.hidden = false;
          }
        });
        li.append(c.kind + " " + c.id + " (" + c.label + ", " + fmt(c.distance_m) + " m) ",
          button);
        list.append(li);
      });
      cell.querySelectorAll("ul.candidates").forEach((old) => old.remove());
      cell.append(list);
    } catch (err) {
      error.textContent = errorText(err);
      error.hidden = false;
    }
  }

  async function showAccidents(spot) {
    const box = document.getElementById("hotspot-accidents");
    try {
      const ids = spot.accident_ids.slice(0, 200).join(",");
      const list = await api("/api/roads/accidents?limit=200&ids=" + ids);
      box.hidden = false;
      document.getElementById("hotspot-accidents-title").textContent =
        t("roads.hotspot_accidents", { rank: spot.rank, shown: list.length, total: spot.accidents });
      box.querySelector("tbody").replaceChildren(...list.map((a) => {
        const tr = row([a.local_time.replace("T", " ").slice(0, 16), a.kind, a.severity,
          a.killed, a.injured, a.road || "—"]);
        const cell = document.createElement("td");
        const linked = document.createElement("span");
        linked.className = "links";
        linked.textContent = a.links.map((l) => l.kind + " " + l.id).join(", ");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "btn btn-small";
        button.textContent = t("roads.find_links");
        button.addEventListener("click", () => suggest(a, cell, linked));
        cell.append(linked, " ", button);
        tr.append(cell);
        tr.dataset.accident = a.id;
        return tr;
      }));
    } catch (err) {
      error.textContent = errorText(err);
      error.hidden = false;
    }
  }

  async function hotspots() {
    const panel = document.getElementById("hotspots-panel");
    try {
      const r = await api("/api/roads/hotspots?" + query());
      panel.hidden = false;
      document.getElementById("hotspots-statement").textContent = r.statement;
      document.querySelector("#hotspots-table tbody").replaceChildren(...r.hotspots.slice(0, 25)
        .map((s) => {
          const tr = row([s.rank, fmt(s.centre[0], 5) + ", " + fmt(s.centre[1], 5),
            s.cells.length, s.accidents, s.killed, fmt(s.max_z, 1),
            s.stability === null ? "—" : Math.round(100 * s.stability) + "%"], true);
          tr.tabIndex = 0;
          tr.className = "clickable";
          tr.addEventListener("click", () => showAccidents(s));
          tr.addEventListener("keydown", (e) => { if (e.key === "Enter") showAccidents(s); });
          return tr;
        }));
      drawHotspots(r);
    } catch (err) {
      panel.hidden = true;
    }
  }

  async function load() {
    const measure = filter.elements.measure.value;
    try {
      const [ranking, trend] = await Promise.all([
        api("/api/roads/ranking?" + query({ measure })),
        api("/api/roads/trend?" + query({ measure })),
      ]);
      error.hidden = true;
      const br = await breakdown();
      const empty = br.rows.length === 0;
      document.getElementById("roads-empty").hidden = !empty;
      document.getElementById("roads-results").hidden = empty;
      if (empty) return;
      document.getElementById("roads-summary").textContent = t("roads.summary", {
        total: fmt(br.total), measure: t("roads.measure." + measure), period: br.statement });
      document.getElementById("trend-statement").textContent = trend.statement;
      drawBars(document.getElementById("trend-bars"), trend.years.map((year, i) =>
        ({ key: String(year), value: trend.counts[i], interval: trend.intervals[i] })));
      document.getElementById("ranking-statement").textContent = ranking.statement;
      document.querySelector("#ranking-table tbody").replaceChildren(...ranking.rows.map((r) =>
        row([regionName(r.key), fmt(r.value), fmt(r.population), fmt(r.per_100k_year, 1),
          r.per_100k_interval ? fmt(r.per_100k_interval.low, 1) + "–" +
            fmt(r.per_100k_interval.high, 1) : "—"], true)));
      document.getElementById("report-html").href = "/api/roads/report.html?" + query();
      document.getElementById("report-pdf").href = "/api/roads/report.pdf?" + query();
      hotspots();
    } catch (err) {
      error.textContent = errorText(err);
      error.hidden = false;
    }
  }

  filter.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  document.getElementById("breakdown-by").addEventListener("change", () => {
    breakdown().catch((err) => { error.textContent = errorText(err); error.hidden = false; });
  });

  const adviceForm = document.getElementById("advice-form");
  adviceForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const failure = document.getElementById("advice-error");
    try {
      const r = await api("/api/roads/advice?" + query({ measure: adviceForm.elements.measure.value }));
      failure.hidden = true;
      document.getElementById("advice-result").hidden = false;
      document.getElementById("advice-statement").textContent = r.statement;
      document.querySelector("#advice-table tbody").replaceChildren(...r.places.map((p) =>
        row([p.rank, fmt(p.centre[0], 5) + ", " + fmt(p.centre[1], 5), p.accidents, p.killed,
          fmt(p.weight_per_year, 1), fmt(p.averted_per_year, 1)], true)));
    } catch (err) {
      failure.textContent = errorText(err);
      failure.hidden = false;
    }
  });

  function sites(text) {
    return text.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
      const parts = line.split(/[,;\s]+/).map(Number);
      if (parts.length < 2 || parts.some((n) => !Number.isFinite(n))) {
        throw new Error(t("roads.bad_site", { line }));
      }
      return { latitude: parts[0], longitude: parts[1] };
    });
  }

  const evaluation = document.getElementById("evaluation-form");
  const failure = document.getElementById("evaluation-error");

  function showEvaluation(r) {
    failure.hidden = true;
    document.getElementById("evaluation-result").hidden = false;
    document.getElementById("evaluation-statement").textContent = r.statement;
    document.getElementById("evaluation-verdicts").replaceChildren(...r.estimates.map((e) => {
      const li = document.createElement("li");
      li.textContent = e.verdict;
      li.dataset.method = e.method;
      return li;
    }));
  }

  function fail(err) {
    failure.textContent = err instanceof Error && !err.status ? err.message : errorText(err);
    failure.hidden = false;
  }

  function typed() {
    const body = {
      treated: sites(evaluation.elements.treated.value),
      comparison: sites(evaluation.elements.comparison.value),
      installed_on: evaluation.elements.installed_on.value,
      radius_m: Number(evaluation.elements.radius_m.value),
    };
    const source = filter.elements.source.value;
    if (source) body.source = source;
    return body;
  }

  evaluation.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const body = Object.assign(typed(), { years: Number(evaluation.elements.years.value) });
      showEvaluation(await api("/api/roads/evaluations", { method: "POST", body }));
    } catch (err) {
      fail(err);
    }
  });

  const kept = document.getElementById("kept");
  async function loadKept() {
    try {
      const list = await api("/api/roads/measures");
      kept.replaceChildren(...list.map((m) => {
        const o = document.createElement("option");
        o.value = m.id;
        o.textContent = m.name + " (" + m.installed_on + ", " + m.sites.length + ")";
        return o;
      }));
    } catch (err) { /* the list stays empty */ }
  }
  document.getElementById("evaluate-kept").addEventListener("click", async () => {
    if (!kept.value) return;
    try {
      showEvaluation(await api("/api/roads/measures/" + kept.value + "/evaluation?years=" +
        Number(evaluation.elements.years.value)));
    } catch (err) {
      fail(err);
    }
  });
  const keep = document.getElementById("keep");
  if (keep) {
    keep.addEventListener("click", async () => {
      try {
        const t0 = typed();
        const body = { kind: "other", name: document.getElementById("keep-name").value,
          installed_on: t0.installed_on, sites: t0.treated, comparison: t0.comparison,
          radius_m: t0.radius_m };
        if (t0.source) body.source = t0.source;
        await api("/api/roads/measures", { method: "POST", body });
        failure.hidden = true;
        await loadKept();
      } catch (err) {
        fail(err);
      }
    });
  }
  loadKept();

  const importForm = document.getElementById("import-form");
  if (importForm) {
    importForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const failure = document.getElementById("import-error");
      const form = new FormData();
      form.append("file", importForm.elements.file.files[0]);
      form.append("mapping", importForm.elements.mapping.value);
      Array.from(importForm.elements.related.files).forEach((f) => form.append("related", f));
      try {
        const r = await api("/api/roads/imports", { method: "POST", body: form });
        failure.hidden = true;
        const done = document.getElementById("import-result");
        done.hidden = false;
        done.textContent = t("roads.imported", { rows: r.rows, imported: r.imported,
          duplicates: r.duplicates, rejected: r.rejected });
        if (!data.sources.includes(r.source)) {
          data.sources.push(r.source);
          option(document.getElementById("source"), r.source, r.source);
        }
      } catch (err) {
        failure.textContent = errorText(err);
        failure.hidden = false;
      }
    });
  }
  load();
})();

/* Plate search: exact, wildcard (12?AB?02, *ABC02) or one character off, by camera and time.
 * Every search carries the stated purpose and is audited on the server; each sighting links to
 * the vehicle's route around that time. */
(function () {
  "use strict";
  const { t, api, errorText, fmtTime, pageData, whyHeaders, whyQuery } = window.Kupol;
  let lastWhy = null;  // the purpose of the search on screen: evidence crops open under it
  const data = pageData();
  const ROUTE_HOURS = 6;  // a sighting's route link covers this much either side of it
  const form = document.getElementById("plate-search-form");
  const error = document.getElementById("plate-search-error");
  const results = document.getElementById("plate-results");
  const body = document.querySelector("#plate-results-table tbody");

  function showError(text, field) {
    error.textContent = text;
    error.hidden = !text;
    if (field) document.getElementById(field).focus();
  }

  /** A datetime-local value (browser time zone) as an ISO instant, or "". */
  function instant(value) {
    return value ? new Date(value).toISOString() : "";
  }

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined || text === "" ? t("common.none") : text;
    if (className) td.className = className;
    return td;
  }

  function cameraCell(sighting) {
    const td = document.createElement("td");
    td.textContent = sighting.camera_name || data.cameras[sighting.camera_id] || sighting.camera_id;
    const small = document.createElement("small");
    small.textContent = sighting.camera_id;
    td.append(small);
    return td;
  }

  function routeCell(sighting) {
    const td = document.createElement("td");
    const seen = Date.parse(sighting.seen_at);
    const query = new URLSearchParams({
      plate: sighting.plate,
      since: new Date(seen - ROUTE_HOURS * 3600e3).toISOString(),
      until: new Date(seen + ROUTE_HOURS * 3600e3).toISOString(),
    });
    const link = document.createElement("a");
    link.href = "/plates/route?" + query.toString();
    link.textContent = t("platesearch.route_link");
    link.title = t("platesearch.route_title", { hours: ROUTE_HOURS });
    td.append(link);
    return td;
  }

  function show(sightings) {
    body.replaceChildren(...sightings.map((s) => {
      const row = document.createElement("tr");
      row.dataset.sightingId = String(s.id);
      const time = document.createElement("td");
      const stamp = document.createElement("time");
      stamp.className = "ts";
      stamp.dateTime = s.seen_at;
      stamp.textContent = fmtTime(s.seen_at);
      time.append(stamp);
      const plate = cell(s.plate, "plate-text");
      if (s.has_crop && lastWhy) {  // the best crop of the vehicle's track, as evidence
        const img = document.createElement("img");
        img.className = "plate-crop";
        img.loading = "lazy";
        img.alt = s.plate;
        img.src = "/api/plates/sightings/" + s.id + "/crop.jpg?" + whyQuery(lastWhy);
        plate.append(document.createElement("br"), img);
      }
      const vehicle = [s.vehicle_colour && t("vehicle.colour." + s.vehicle_colour),
        s.vehicle_class && t("vehicle.class." + s.vehicle_class)].filter(Boolean).join(" ");
      // The plate's format, and the region it was registered in where the format says.
      const registered = [t("platekind." + s.kind), data.regions[s.region]]
        .filter(Boolean).join(" · ");
      row.append(time, cameraCell(s), plate, cell(registered),
        cell(Math.round(s.confidence * 100) + "%", "num"),
        cell(vehicle), cell(s.direction), routeCell(s));
      return row;
    }));
    document.getElementById("plate-results-summary").textContent = sightings.length
      ? t("search.results", { count: sightings.length }) : t("search.no_results");
    document.getElementById("plate-results-table").hidden = sightings.length === 0;
    results.hidden = false;
  }

  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const values = new FormData(form);
    const why = { purpose: String(values.get("purpose") || "").trim(),
      case: String(values.get("case") || "").trim() };
    const plate = String(values.get("plate") || "").trim();
    const match = String(values.get("match") || "exact");
    if (match !== "exact" && !plate.replace(/[?*\s-]/g, "")) {
      return showError(t("platesearch.plate_required"), "plate");
    }
    if (why.purpose.length < 5) return showError(t("error.purpose_required"), "plate-purpose");
    lastWhy = why;
    const query = new URLSearchParams();
    if (plate) query.set("plate", plate);
    query.set("match", match);
    ["camera_id", "vehicle_class", "vehicle_colour", "limit"].forEach((name) => {
      const value = String(values.get(name) || "").trim();
      if (value) query.set(name, value);
    });
    ["since", "until"].forEach((name) => {
      const value = instant(String(values.get(name) || ""));
      if (value) query.set(name, value);
    });
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    showError("");
    try {
      show(await api("/api/plates/sightings?" + query.toString(), { headers: whyHeaders(why) }));
    } catch (err) {
      results.hidden = true;
      showError(errorText(err));
    } finally {
      button.disabled = false;
    }
  });
})();

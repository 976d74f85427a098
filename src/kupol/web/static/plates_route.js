/* A vehicle's route: one plate's sightings in a time window, oldest first, in a list and on
 * the regions map — numbered stops joined leg by leg, each leg with its travel time; a leg no
 * vehicle could drive (a possible cloned plate) is drawn and listed in red. Audited. Those who
 * may put evidence in the vault export the route shown, with its crops, under a case. */
(function () {
  "use strict";
  const { t, api, errorText, fmtTime, pageData, whyHeaders, whyQuery } = window.Kupol;
  const projection = pageData().projection;
  const form = document.getElementById("plate-route-form");
  const error = document.getElementById("plate-route-error");
  const results = document.getElementById("route-results");
  const list = document.getElementById("route-list");
  const tpl = document.getElementById("route-stop-tpl");
  const svg = document.getElementById("route-map");
  const SVG_NS = "http://www.w3.org/2000/svg";
  const W = Number(svg.dataset.width);
  const H = Number(svg.dataset.height);
  const MIN_VIEW = 24;  // map units across when zoomed onto the route (a city or so)
  const MARGIN = 0.25;
  const BADGE = 20;  // a marker's height in screen units at the whole-country scale
  const DEFAULT_HOURS = 24;
  const LEG_GAP = 3;  // screen units between a leg and the way back
  const LABEL_GAP = 8;  // and between a leg and its travel time

  function showError(text, field) {
    error.textContent = text;
    error.hidden = !text;
    if (field) document.getElementById(field).focus();
  }

  function pad(n) { return String(n).padStart(2, "0"); }

  /** An instant as a datetime-local value in the browser's time zone. */
  function local(date) {
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
      "T" + pad(date.getHours()) + ":" + pad(date.getMinutes());
  }

  function project(latitude, longitude) {
    return [projection.padding + (longitude - projection.west) * projection.x_scale,
      projection.padding + (projection.north - latitude) * projection.y_scale];
  }

  function duration(minutes) {
    const whole = Math.round(minutes);
    if (whole < 60) return t("plateroute.minutes", { minutes: whole });
    return t("plateroute.hours", { hours: Math.floor(whole / 60), minutes: whole % 60 });
  }

  function clock(iso) { return fmtTime(iso).slice(11, 16); }

  /** Legs with their speed and whether the server found them impossible for one vehicle
   *  (each leg says so itself: two legs between the same cameras are judged apart). */
  function legs(route) {
    return route.legs.map((leg, i) => {
      const impossible = leg.needed_speed_kmh !== null && leg.needed_speed_kmh !== undefined;
      const hours = leg.minutes / 60;
      return Object.assign({}, leg, {
        index: i,
        speed: impossible ? leg.needed_speed_kmh : (hours > 0 ? leg.distance_km / hours : null),
        suspicious: impossible,
      });
    });
  }

  function legItem(leg) {
    const item = document.createElement("li");
    item.className = "leg" + (leg.suspicious ? " leg-suspicious" : "");
    item.dataset.leg = String(leg.index + 1);
    const text = t("plateroute.leg", {
      distance: leg.distance_km.toFixed(1), time: duration(leg.minutes),
      speed: leg.speed === null ? t("common.none") : Math.round(leg.speed),
    });
    item.textContent = leg.suspicious ? text + " — " + t("plateroute.leg_impossible") : text;
    return item;
  }

  /** The stop's evidence crop (the best of the vehicle's track at that camera), opened under
   *  the route's purpose: the server audits each one as a view of that sighting's crop. */
  function cropOf(sighting, why) {
    const img = document.createElement("img");
    img.className = "plate-crop";
    img.loading = "lazy";
    img.alt = t("plateroute.crop_alt", { plate: sighting.plate, camera: sighting.camera_id });
    img.src = "/api/plates/sightings/" + sighting.id + "/crop.jpg?" + whyQuery(why);
    return img;
  }

  function drawList(route, allLegs, why) {
    const items = [];
    route.sightings.forEach((s, i) => {
      if (i > 0) items.push(legItem(allLegs[i - 1]));
      const node = tpl.content.firstElementChild.cloneNode(true);
      node.dataset.sightingId = String(s.id);
      node.dataset.cameraId = s.camera_id;
      const detail = [t("plateroute.confidence", { value: Math.round(s.confidence * 100) })];
      if (s.direction) detail.push(t("plateroute.direction", { direction: s.direction }));
      node.querySelector('[data-field="stop"]').textContent = String(i + 1);
      node.querySelector('[data-field="time"]').textContent = fmtTime(s.seen_at);
      node.querySelector("time.ts").dateTime = s.seen_at;
      node.querySelector('[data-field="camera"]').textContent =
        s.camera_name + " (" + s.camera_id + ")";
      node.querySelector('[data-field="detail"]').textContent = detail.join(" · ");
      if (s.has_crop && why) node.querySelector(".sighting-body").append(cropOf(s, why));
      node.addEventListener("pointerenter", () => highlight([s.camera_id]));
      node.addEventListener("pointerleave", () => highlight([]));
      items.push(node);
    });
    list.replaceChildren(...items);
  }

  function highlight(cameraIds) {
    svg.querySelectorAll(".stop").forEach((marker) => marker.classList.toggle("selected",
      marker.dataset.cameras.split(" ").some((id) => cameraIds.includes(id))));
    list.querySelectorAll(".sighting").forEach((item) =>
      item.classList.toggle("selected", cameraIds.includes(item.dataset.cameraId)));
  }

  /** The view box around the route, with a margin, in the map's proportions. */
  function fit(points) {
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    let w = Math.max(Math.max(...xs) - Math.min(...xs), (Math.max(...ys) - Math.min(...ys)) * W / H);
    w = Math.min(W, Math.max(MIN_VIEW, w * (1 + 2 * MARGIN)));
    const h = w * H / W;
    const cx = (Math.max(...xs) + Math.min(...xs)) / 2;
    const cy = (Math.max(...ys) + Math.min(...ys)) / 2;
    return { x: Math.min(Math.max(cx - w / 2, 0), W - w), y: Math.min(Math.max(cy - h / 2, 0), H - h),
      w, h };
  }

  /** One marker per camera with the numbers and times of its stops; cameras closer on the map
   * than a marker is wide share one, so no number hides under another. */
  function markers(stops, near) {
    const found = [];
    stops.forEach((stop) => {
      let marker = found.find((m) => m.cameras.includes(stop.camera_id) ||
        Math.hypot(m.xy[0] - stop.xy[0], m.xy[1] - stop.xy[1]) < near);
      if (!marker) {
        marker = { xy: stop.xy, cameras: [], names: [], numbers: [], times: [] };
        found.push(marker);
      }
      if (!marker.cameras.includes(stop.camera_id)) {
        marker.cameras.push(stop.camera_id);
        marker.names.push(stop.name + " (" + stop.camera_id + ")");
      }
      marker.numbers.push(stop.number);
      marker.times.push(stop.number + ": " + clock(stop.seen_at));
    });
    return found;
  }

  function svgNode(name, attributes, text) {
    const node = document.createElementNS(SVG_NS, name);
    Object.entries(attributes).forEach(([key, value]) => node.setAttribute(key, String(value)));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function drawMap(route, allLegs) {
    const stops = route.sightings.map((s, i) => ({ number: i + 1, camera_id: s.camera_id,
      name: s.camera_name, seen_at: s.seen_at, xy: project(s.latitude, s.longitude) }));
    const legLayer = svg.querySelector(".route-legs");
    const stopLayer = svg.querySelector(".trail-stops");
    if (!stops.length) {
      legLayer.replaceChildren();
      stopLayer.replaceChildren();
      svg.setAttribute("viewBox", [0, 0, W, H].join(" "));
      return;
    }
    const view = fit(stops.map((s) => s.xy));
    svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].join(" "));
    const scale = view.w / W;  // markers and labels keep their size on screen at any zoom
    const drawn = [];
    allLegs.forEach((leg) => {
      const a = stops[leg.index].xy;
      const b = stops[leg.index + 1].xy;
      const length = Math.hypot(b[0] - a[0], b[1] - a[1]);
      if (length < BADGE * scale / 2) return;  // the same place: the list says how long
      // Each leg keeps to the left of its direction, so there and back are two lines, and
      // its travel time sits beside it rather than on the way back's.
      const left = [(b[1] - a[1]) / length, (a[0] - b[0]) / length];
      const shift = (units) => [left[0] * units * scale, left[1] * units * scale];
      const [dx, dy] = shift(LEG_GAP);
      const className = "route-leg" + (leg.suspicious ? " suspicious" : "");
      const line = svgNode("line", { class: className, x1: a[0] + dx, y1: a[1] + dy,
        x2: b[0] + dx, y2: b[1] + dy });
      line.dataset.leg = String(leg.index + 1);
      line.append(svgNode("title", {}, leg.from_camera + " → " + leg.to_camera + ": " +
        duration(leg.minutes)));
      drawn.push(line);
      if (length < 3 * BADGE * scale) return;  // too short to label beside the markers
      const [lx, ly] = shift(LABEL_GAP);
      const label = svgNode("g", { class: "leg-label" + (leg.suspicious ? " suspicious" : ""),
        transform: "translate(" + ((a[0] + b[0]) / 2 + lx) + " " + ((a[1] + b[1]) / 2 + ly) +
          ") scale(" + scale + ")" });
      label.append(svgNode("text", { "text-anchor": left[0] < 0 ? "end" : "start", dy: "4" },
        duration(leg.minutes)));
      drawn.push(label);
    });
    legLayer.replaceChildren(...drawn);
    stopLayer.replaceChildren(...markers(stops, BADGE * scale).map((marker) => {
      const g = svgNode("g", { class: "stop",
        transform: "translate(" + marker.xy[0] + " " + marker.xy[1] + ") scale(" + scale + ")" });
      g.dataset.cameras = marker.cameras.join(" ");
      const label = marker.numbers.join(", ");
      const width = Math.max(BADGE, 8 + 7 * label.length);
      g.append(svgNode("title", {}, marker.names.join("\n") + "\n" + marker.times.join("\n")),
        svgNode("rect", { x: -width / 2, y: -BADGE / 2, width, height: BADGE, rx: BADGE / 2 }),
        svgNode("text", { "text-anchor": "middle", dy: "4" }, label),
        svgNode("text", { class: "stop-time", x: width / 2 + 4, dy: "4" },
          marker.times.map((time) => time.split(": ")[1]).join(", ")));
      g.addEventListener("pointerenter", () => highlight(marker.cameras));
      g.addEventListener("pointerleave", () => highlight([]));
      return g;
    }));
  }

  /* The route shown last, as it was asked for: what "Export to evidence" hands over. */
  let shown = null;
  const exportForm = document.getElementById("route-export");

  function showExport(request) {
    shown = request;
    if (!exportForm) return;
    exportForm.hidden = !request;
    document.getElementById("route-export-result").hidden = true;
    document.getElementById("route-export-error").hidden = true;
    // Each route shown brings its form's case number, unless the user typed another for the
    // export since the last route was shown.
    const caseInput = document.getElementById("route-export-case");
    if (request && (!caseInput.value || caseInput.value === caseInput.dataset.fromRoute)) {
      caseInput.value = request.why.case;
      caseInput.dataset.fromRoute = request.why.case;
    }
  }

  function exported(result) {
    const lines = [t("plateroute.exported", { case: result.case_number, item: result.evidence_item,
      sha256: result.sha256, crops: result.crops })];
    if (result.crops_truncated) lines.push(t("plateroute.export_truncated"));
    if (result.crops_missing) {
      lines.push(t("plateroute.export_missing", { count: result.crops_missing }));
    }
    if (result.crop_mismatches) {
      lines.push(t("plateroute.export_mismatch", { count: result.crop_mismatches }));
    }
    if (result.crops_already_in_vault) {
      lines.push(t("plateroute.export_already", { count: result.crops_already_in_vault }));
    }
    return lines.join(" ");
  }

  if (exportForm) {
    exportForm.addEventListener("submit", async (submit) => {
      submit.preventDefault();
      const result = document.getElementById("route-export-result");
      const failed = document.getElementById("route-export-error");
      const caseNumber = document.getElementById("route-export-case").value.trim();
      result.hidden = true;
      failed.hidden = true;
      if (!shown) return;
      if (!caseNumber) {
        failed.textContent = t("plateroute.case_required");
        failed.hidden = false;
        document.getElementById("route-export-case").focus();
        return;
      }
      const button = exportForm.querySelector('button[type="submit"]');
      button.disabled = true;
      try {
        const made = await api("/api/plates/route/export", { method: "POST",
          headers: whyHeaders(shown.why), body: { plate: shown.plate, since: shown.since,
            until: shown.until, case_number: caseNumber } });
        result.textContent = exported(made);
        result.hidden = false;
      } catch (err) {
        failed.textContent = errorText(err);
        failed.hidden = false;
      } finally {
        button.disabled = false;
      }
    });
  }

  function show(route, why) {
    const allLegs = legs(route);
    const cameras = new Set(route.sightings.map((s) => s.camera_id)).size;
    document.getElementById("route-summary").textContent = route.sightings.length
      ? t("plateroute.summary", { plate: route.plate, count: route.sightings.length, cameras })
      : t("plateroute.none", { plate: route.plate });
    const clones = document.getElementById("route-clones");
    clones.textContent = t("plateroute.clones", { count: route.possible_clones.length });
    clones.hidden = route.possible_clones.length === 0;
    drawList(route, allLegs, why);
    drawMap(route, allLegs);
    results.querySelector(".trail-layout").hidden = route.sightings.length === 0;
    results.hidden = false;
  }

  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const values = new FormData(form);
    const why = { purpose: String(values.get("purpose") || "").trim(),
      case: String(values.get("case") || "").trim() };
    const plate = String(values.get("plate") || "").trim();
    const since = String(values.get("since") || "");
    const until = String(values.get("until") || "");
    if (plate.replace(/[\s-]/g, "").length < 2) return showError(t("plateroute.plate_required"), "route-plate");
    if (!since) return showError(t("plateroute.window_required"), "route-since");
    if (!until) return showError(t("plateroute.window_required"), "route-until");
    if (new Date(until) <= new Date(since)) return showError(t("plateroute.window_order"), "route-until");
    if (why.purpose.length < 5) return showError(t("error.purpose_required"), "route-purpose");
    const query = new URLSearchParams({ plate, since: new Date(since).toISOString(),
      until: new Date(until).toISOString() });
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    showError("");
    try {
      const route = await api("/api/plates/route?" + query.toString(),
        { headers: whyHeaders(why) });
      show(route, why);
      showExport(route.sightings.length ? { plate, since: query.get("since"),
        until: query.get("until"), why } : null);
    } catch (err) {
      results.hidden = true;
      showExport(null);
      showError(errorText(err));
    } finally {
      button.disabled = false;
    }
  });

  // A link from the search (?plate=…&since=…&until=…) fills the form; the purpose is asked.
  const given = new URLSearchParams(location.search);
  const now = new Date();
  const sinceGiven = Date.parse(given.get("since") || "");
  const untilGiven = Date.parse(given.get("until") || "");
  document.getElementById("route-plate").value = given.get("plate") || "";
  document.getElementById("route-since").value = local(Number.isNaN(sinceGiven)
    ? new Date(now.getTime() - DEFAULT_HOURS * 3600e3) : new Date(sinceGiven));
  document.getElementById("route-until").value = local(Number.isNaN(untilGiven)
    ? new Date(now.getTime() + 60e3) : new Date(untilGiven));
  if (given.get("plate")) document.getElementById("route-purpose").focus();
})();

/* Retrospective face search, for a case: a photo in, the sightings out as a timeline and as a
 * route over the cameras, numbered in time order. Every search and crop is audited. */
(function () {
  const STOP_GAP_MS = 10 * 60 * 1000;
  "use strict";
  const { t, api, errorText, fmtTime, fill, pageData, whyHeaders, whyQuery } = window.Kupol;
  const { refusal } = window.KupolFaces;
  const data = pageData();
  const projection = data.projection;
  const form = document.getElementById("face-search-form");
  const error = document.getElementById("face-search-error");
  const results = document.getElementById("face-results");
  const timeline = document.getElementById("timeline");
  const tpl = document.getElementById("sighting-tpl");
  const svg = document.getElementById("trail-map");
  const dialog = document.getElementById("crop-dialog");
  const SVG_NS = "http://www.w3.org/2000/svg";
  const W = Number(svg.dataset.width);
  const H = Number(svg.dataset.height);
  const MIN_VIEW = 24;  // map units across when zoomed onto the route (a city or so)
  const MARGIN = 0.25;
  const BADGE = 20;  // a marker's height in screen units at the whole-country scale

  function showError(text, field) {
    error.textContent = text;
    error.hidden = !text;
    if (field) document.getElementById(field).focus();
  }

  /** A datetime-local value (browser time zone) as an ISO instant, or "". */
  function instant(value) {
    return value ? new Date(value).toISOString() : "";
  }

  function project(latitude, longitude) {
    return [projection.padding + (longitude - projection.west) * projection.x_scale,
      projection.padding + (projection.north - latitude) * projection.y_scale];
  }

  /** Consecutive sightings on one camera, none more than STOP_GAP_MS after the one before,
   * are one stop: one visit to that camera's view. */
  function stops(sightings) {
    const found = [];
    sightings.forEach((s) => {
      const last = found[found.length - 1];
      const previous = last && last.sightings[last.sightings.length - 1];
      if (last && last.camera_id === s.camera_id
          && Date.parse(s.seen_at) - Date.parse(previous.seen_at) <= STOP_GAP_MS) {
        last.sightings.push(s);
      }
      else found.push({ number: found.length + 1, camera_id: s.camera_id, sightings: [s],
        name: s.camera_name, xy: project(s.latitude, s.longitude) });
    });
    return found;
  }

  function cropUrl(sighting, why) {
    return "/api/faces/sightings/" + sighting.id + "/crop.jpg?" + whyQuery(why);
  }

  /** One entry per stop (one walk past a camera): its best face, when it began and ended,
   * how many sightings it gathered. */
  function drawTimeline(route, why) {
    timeline.replaceChildren(...route.map((stop) => {
      const best = stop.sightings.reduce((a, b) => (b.similarity > a.similarity ? b : a));
      const first = stop.sightings[0];
      const last = stop.sightings[stop.sightings.length - 1];
      const node = tpl.content.firstElementChild.cloneNode(true);
      node.dataset.sightingId = String(best.id);
      node.dataset.stop = String(stop.number);
      node.dataset.cameraId = best.camera_id;
      const when = first.id === last.id
        ? fmtTime(first.seen_at) : fmtTime(first.seen_at) + " – " + fmtTime(last.seen_at);
      fill(node, {
        stop: stop.number, time: when,
        camera: best.camera_name + " (" + best.camera_id + ")",
        similarity: stop.sightings.length > 1
          ? t("facesearch.stop_summary",
            { count: stop.sightings.length, value: best.similarity.toFixed(3) })
          : t("facesearch.similarity", { value: best.similarity.toFixed(3) }),
      });
      node.querySelector("time.ts").dateTime = first.seen_at;
      node.querySelector('[data-field="camera"]').title =
        best.camera_name + " (" + best.camera_id + ")";
      const img = node.querySelector("img");
      img.src = cropUrl(best, why);
      img.alt = t("facesearch.crop_alt", { camera: best.camera_name, time: fmtTime(best.seen_at) });
      node.querySelector('[data-action="open"]').addEventListener("click", () => {
        const big = dialog.querySelector('[data-field="image"]');
        big.src = img.src;
        big.alt = img.alt;
        dialog.showModal();
      });
      node.addEventListener("pointerenter", () => highlight([stop.camera_id]));
      node.addEventListener("pointerleave", () => highlight([]));
      return node;
    }));
  }

  /** Mark the markers and timeline entries of these cameras. */
  function highlight(cameraIds) {
    svg.querySelectorAll(".stop").forEach((marker) => marker.classList.toggle("selected",
      marker.dataset.cameras.split(" ").some((id) => cameraIds.includes(id))));
    timeline.querySelectorAll(".sighting").forEach((item) =>
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
    const x = Math.min(Math.max(cx - w / 2, 0), W - w);
    const y = Math.min(Math.max(cy - h / 2, 0), H - h);
    return { x, y, w, h };
  }

  function drawMap(route) {
    const layer = svg.querySelector(".trail-stops");
    const line = svg.querySelector(".trail-line");
    if (!route.length) {
      layer.replaceChildren();
      line.setAttribute("points", "");
      svg.setAttribute("viewBox", [0, 0, W, H].join(" "));
      return;
    }
    const view = fit(route.map((stop) => stop.xy));
    svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].join(" "));
    line.setAttribute("points", route.map((stop) => stop.xy.join(",")).join(" "));
    const scale = view.w / W;  // markers keep their size on screen whatever the zoom
    layer.replaceChildren(...markers(route, BADGE * scale).map((marker) => {
      const g = document.createElementNS(SVG_NS, "g");
      g.setAttribute("class", "stop");
      g.dataset.cameras = marker.cameras.join(" ");
      g.setAttribute("transform",
        "translate(" + marker.xy[0] + " " + marker.xy[1] + ") scale(" + scale + ")");
      const label = marker.numbers.join(", ");
      const width = Math.max(BADGE, 8 + 7 * label.length);
      const badge = document.createElementNS(SVG_NS, "rect");
      badge.setAttribute("x", String(-width / 2));
      badge.setAttribute("y", String(-BADGE / 2));
      badge.setAttribute("width", String(width));
      badge.setAttribute("height", String(BADGE));
      badge.setAttribute("rx", String(BADGE / 2));
      const text = document.createElementNS(SVG_NS, "text");
      text.setAttribute("text-anchor", "middle");
      text.setAttribute("dy", "4");
      text.textContent = label;
      const title = document.createElementNS(SVG_NS, "title");
      title.textContent = marker.names.join("\n");
      g.append(title, badge, text);
      g.addEventListener("pointerenter", () => highlight(marker.cameras));
      g.addEventListener("pointerleave", () => highlight([]));
      return g;
    }));
  }

  /** One marker per camera, with the numbers of its stops; cameras closer on the map than a
   * marker is wide share one marker, so no number hides under another. */
  function markers(route, near) {
    const found = [];
    route.forEach((stop) => {
      let marker = found.find((m) => m.cameras.includes(stop.camera_id) ||
        Math.hypot(m.xy[0] - stop.xy[0], m.xy[1] - stop.xy[1]) < near);
      if (!marker) {
        marker = { xy: stop.xy, cameras: [], names: [], numbers: [] };
        found.push(marker);
      }
      if (!marker.cameras.includes(stop.camera_id)) {
        marker.cameras.push(stop.camera_id);
        marker.names.push(stop.name + " (" + stop.camera_id + ")");
      }
      marker.numbers.push(stop.number);
    });
    return found;
  }

  function show(result, why) {
    const sightings = result.sightings;
    const route = stops(sightings);
    document.getElementById("face-results-summary").textContent = sightings.length
      ? t("facesearch.results", { count: sightings.length,
        cameras: new Set(sightings.map((s) => s.camera_id)).size, case: result.case_number })
      : t("facesearch.no_results", { since: fmtTime(result.searched_since) });
    document.getElementById("face-results-meta").textContent = t("facesearch.meta", {
      since: fmtTime(result.searched_since), min: result.min_similarity.toFixed(2),
      quality: result.probe_quality.toFixed(2),
    });
    drawTimeline(route, why);
    drawMap(route);
    results.querySelector(".trail-layout").hidden = sightings.length === 0;
    results.hidden = false;
  }

  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const values = new FormData(form);
    const photo = values.get("photo");
    const why = { purpose: String(values.get("purpose") || "").trim(),
      case: String(values.get("case") || "").trim() };
    if (!photo || !photo.size) return showError(t("facesearch.photo_required"), "face-photo");
    if (!why.case) return showError(t("facesearch.case_required"), "face-case");
    if (why.purpose.length < 5) return showError(t("error.purpose_required"), "face-purpose");
    const body = new FormData();
    body.append("photo", photo);
    ["since", "until"].forEach((name) => {
      const value = instant(String(values.get(name) || ""));
      if (value) body.append(name, value);
    });
    const chosen = values.getAll("cameras").map(String);
    if (chosen.length) body.append("cameras", chosen.join(","));
    ["min_similarity", "limit"].forEach((name) => {
      const value = String(values.get(name) || "").trim();
      if (value) body.append(name, value);
    });
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    showError("");
    try {
      show(await api("/api/faces/search", { method: "POST", body, headers: whyHeaders(why) }), why);
    } catch (err) {
      results.hidden = true;
      showError(err.status === 422 ? refusal(err) : errorText(err));
    } finally {
      button.disabled = false;
    }
  });
})();

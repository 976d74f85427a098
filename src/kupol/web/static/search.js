/* Event search: every request carries the stated purpose and is audited on the server. */
(function () {
  "use strict";
  const { t, api, errorText, fmtTime, pageData } = window.Kupol;
  const data = pageData();
  const form = document.getElementById("search-form");
  const error = document.getElementById("search-error");
  const results = document.getElementById("results");
  const body = document.querySelector("#results-table tbody");
  const dialog = document.getElementById("snapshot-dialog");

  function showError(text) {
    error.textContent = text;
    error.hidden = !text;
  }

  /** A datetime-local value (browser time zone) as an ISO instant, or "". */
  function instant(value) {
    return value ? new Date(value).toISOString() : "";
  }

  function evidenceUrl(event, why, index) {
    const query = new URLSearchParams({ purpose: why.purpose });
    if (why.case) query.set("case", why.case);
    return "/api/events/" + event.id + "/evidence/" + index + "?" + query.toString();
  }

  /** A recorded clip, fetched (and audited) only when the user plays it. */
  function clip(event, why, index) {
    const video = document.createElement("video");
    video.className = "clip";
    video.controls = true;
    video.preload = "none";
    video.title = t("search.clip_title", { id: event.id });
    video.src = evidenceUrl(event, why, index);
    return video;
  }

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined || text === "" ? t("common.none") : text;
    if (className) td.className = className;
    return td;
  }

  function cameraCell(id) {
    const td = document.createElement("td");
    const name = (data.cameras || {})[id];
    td.textContent = name || id;
    if (name) {
      const small = document.createElement("small");
      small.textContent = id;
      td.append(small);
    }
    return td;
  }

  function snapshotCell(event, why) {
    const td = document.createElement("td");
    const refs = event.evidence || [];
    const clips = refs.map((r, i) => (r.media_type === "video/webm" ? i : -1)).filter((i) => i >= 0);
    const ref = refs[0];
    const shot = Boolean(ref) && String(ref.media_type || "").startsWith("image/");
    if (!data.evidence || (!shot && !clips.length)) {
      td.textContent = t("common.none");
      return td;
    }
    if (clips.length) {
      const box = document.createElement("div");
      box.className = "evidence";
      if (shot) box.append(thumbnail(event, why));
      box.append(...clips.map((index) => clip(event, why, index)));
      td.append(box);
    } else {
      td.append(thumbnail(event, why));
    }
    return td;
  }

  function thumbnail(event, why) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "thumb";
    button.title = t("search.snapshot_open");
    const img = document.createElement("img");
    img.loading = "lazy";
    img.alt = t("search.snapshot_alt", { id: event.id });
    img.src = evidenceUrl(event, why, 0);
    button.append(img);
    button.addEventListener("click", () => {
      const big = dialog.querySelector('[data-field="image"]');
      big.src = img.src;
      big.alt = img.alt;
      dialog.showModal();
    });
    return button;
  }

  function show(events, why) {
    body.replaceChildren(...events.map((event) => {
      const row = document.createElement("tr");
      row.dataset.eventId = event.id;
      const time = document.createElement("td");
      const stamp = document.createElement("time");
      stamp.className = "ts";
      stamp.dateTime = event.occurred_at;
      stamp.textContent = fmtTime(event.occurred_at);
      time.append(stamp);
      row.append(time, cameraCell(event.camera_id), cell(event.type), cell(event.zone),
        cell(Math.round(event.confidence * 100) + "%", "num"), snapshotCell(event, why));
      return row;
    }));
    document.getElementById("results-summary").textContent = events.length
      ? t("search.results", { count: events.length }) : t("search.no_results");
    document.getElementById("results-table").hidden = events.length === 0;
    results.hidden = false;
  }

  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const values = new FormData(form);
    const why = { purpose: String(values.get("purpose") || "").trim(),
      case: String(values.get("case") || "").trim() };
    if (!why.purpose) {
      showError(t("error.purpose_required"));
      document.getElementById("purpose").focus();
      return;
    }
    const query = new URLSearchParams();
    ["camera_id", "type", "min_confidence", "limit"].forEach((name) => {
      const value = String(values.get(name) || "").trim();
      if (value) query.set(name, value);
    });
    ["since", "until"].forEach((name) => {
      const value = instant(String(values.get(name) || ""));
      if (value) query.set(name, value);
    });
    const headers = { "X-Purpose": encodeURIComponent(why.purpose) };
    if (why.case) headers["X-Case-Number"] = encodeURIComponent(why.case);
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    showError("");
    try {
      show(await api("/api/events?" + query.toString(), { headers }), why);
    } catch (err) {
      results.hidden = true;
      showError(errorText(err));
    } finally {
      button.disabled = false;
    }
  });
})();

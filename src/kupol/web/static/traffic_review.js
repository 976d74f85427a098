/* The review queue: violations and their evidence open under the purpose the officer states
 * (each look audited); an officer approves (signed, the notice is made) or rejects with a
 * reason. Nothing reaches an owner without that decision. */
(function () {
  "use strict";
  const { t, api, errorText, fmtTime, fill, pageData, toast, whyHeaders, whyQuery } = window.Kupol;
  const data = pageData();
  const purpose = window.KupolFaces.purpose(() => { filter.hidden = false; load(); });
  const filter = document.getElementById("queue-filter");
  const body = document.querySelector("#queue-table tbody");
  const empty = document.getElementById("queue-empty");
  const detail = document.getElementById("violation");
  const decide = document.getElementById("decide");
  let current = null;

  function offenceName(offence) { return t("traffic.offence." + offence); }

  function tenge(value) { return value === null || value === undefined ? "" :
    Number(value).toLocaleString("ru-RU") + " ₸"; }

  function measured(v) {
    return Object.entries(v.measured).filter(([k]) => k !== "geo")
      .map(([k, value]) => k + ": " + value).join(", ");
  }

  /* A mobile camera's violation is placed on its unit's track (measured.geo). */
  function place(v) {
    const geo = v.measured.geo;
    if (!geo) return t("review.place_camera");
    if (geo.error) return t("review.place_unknown", { unit: geo.unit, error: geo.error });
    return t("review.place_unit", { unit: geo.unit, lat: Number(geo.lat).toFixed(5),
      lon: Number(geo.lon).toFixed(5), alt: geo.alt_m === null ? "—" : Math.round(geo.alt_m),
      speed: geo.speed_mps === null || geo.speed_mps === undefined ? "—"
        : Number(geo.speed_mps).toFixed(1) });
  }

  async function load() {
    const why = purpose.get();
    if (!why) return;
    const query = new URLSearchParams();
    new FormData(filter).forEach((value, key) => { if (value) query.set(key, String(value)); });
    try {
      const page = await api("/api/traffic/violations?" + query.toString(),
        { headers: whyHeaders(why) });
      document.getElementById("queue-count").textContent =
        t("review.count", { count: page.total });
      empty.hidden = page.items.length > 0;
      body.replaceChildren(...page.items.map(row));
    } catch (err) {
      if (err.status === 428) purpose.refused(err); else toast(errorText(err), "error");
    }
  }

  function row(v) {
    const tr = document.createElement("tr");
    tr.tabIndex = 0;
    tr.dataset.violationId = String(v.id);
    const cells = [fmtTime(v.occurred_at), offenceName(v.offence), v.plate || t("common.none"),
      tenge(v.fine_tenge)];
    cells.forEach((text, i) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (i === 3) td.className = "num";
      if (i === 2) td.className = "plate-text";
      tr.append(td);
    });
    tr.addEventListener("click", () => show(v.id));
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter") show(v.id); });
    return tr;
  }

  async function show(id) {
    const why = purpose.get();
    if (!why) return;
    try {
      current = await api("/api/traffic/violations/" + id, { headers: whyHeaders(why) });
    } catch (err) {
      toast(errorText(err), "error");
      return;
    }
    const v = current;
    detail.querySelector('[data-field="empty"]').hidden = true;
    detail.querySelector('[data-field="card"]').hidden = false;
    const decision = v.status === "pending" ? t("traffic.status.pending") :
      v.status === "approved"
        ? t("review.approved_by", { user: v.decided_by, notice: v.notice_number || "—",
          signature: (v.signature || "").slice(0, 16) })
        : t("review.rejected_by", { user: v.decided_by,
          reason: t("traffic.reason." + v.reject_reason) });
    fill(detail, {
      offence: offenceName(v.offence),
      status: t("traffic.status." + v.status),
      time: fmtTime(v.occurred_at),
      camera: (data.cameras[v.camera_id] || "") + " (" + v.camera_id + ")",
      article: t("review.article_part", { article: v.article, part: v.part || "—" }) +
        " — " + v.title,
      fine: t("review.fine_text", { mrp: v.fine_mrp, tenge: tenge(v.fine_tenge),
        rate: tenge(v.mrp_tenge) }),
      measured: measured(v),
      place: place(v),
      plate: v.plate ? v.plate + " (" + t("review.plate_source." + (v.plate_source || "camera")) +
        ")" : t("review.no_plate"),
      decision,
    });
    const grid = detail.querySelector('[data-field="evidence"]');
    grid.replaceChildren(...v.evidence.map((e) => {
      const figure = document.createElement("figure");
      const src = "/api/traffic/violations/" + v.id + "/evidence/" + e.index + "?" + whyQuery(why);
      const media = document.createElement(e.kind === "clip" ? "video" : "img");
      media.src = src;
      if (e.kind === "clip") { media.controls = true; media.muted = true; } else {
        media.alt = t("traffic.evidence." + e.kind);
        media.loading = "lazy";
      }
      const caption = document.createElement("figcaption");
      caption.textContent = t("traffic.evidence." + e.kind) + " · sha256 " + e.sha256.slice(0, 12);
      figure.append(media, caption);
      return figure;
    }));
    const decisionNode = detail.querySelector('[data-field="decision"]');
    if (v.notice_id) {  // the printable notice, opened under the same purpose
      const link = document.createElement("a");
      link.href = "/api/traffic/notices/" + v.notice_id + "/letter.html?" + whyQuery(why);
      link.target = "_blank";
      link.rel = "noopener";
      link.id = "notice-letter";
      link.textContent = t("review.letter");
      decisionNode.append(" · ", link);
    }
    if (decide) decide.hidden = v.status !== "pending";
  }

  async function decideWith(action) {
    if (!current) return;
    const form = new FormData(decide);
    const error = document.getElementById("decide-error");
    const body = action === "approve"
      ? { plate: String(form.get("plate") || "") || null, note: String(form.get("note") || "") || null }
      : { reason: String(form.get("reason")), note: String(form.get("note") || "") || null };
    try {
      await api("/api/traffic/violations/" + current.id + "/" + action, { method: "POST", body });
      error.hidden = true;
      decide.reset();
      toast(t(action === "approve" ? "review.approved" : "review.rejected"), "info");
      await show(current.id);
      await load();
    } catch (err) {
      error.textContent = errorText(err);
      error.hidden = false;
    }
  }

  filter.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  if (decide) {
    document.getElementById("approve").addEventListener("click", () => decideWith("approve"));
    document.getElementById("reject").addEventListener("click", () => decideWith("reject"));
  }
})();

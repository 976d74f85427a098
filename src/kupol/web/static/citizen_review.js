/* Citizens' reports for officers: the queue (appeals first, then by the reporter's standing and
 * the intake's findings), a report's media under the stated purpose, and the decision —
 * confirmed (a traffic report becomes a violation for the traffic review) or rejected with a
 * reason. Every look is audited. */
(function () {
  "use strict";
  const { t, api, errorText, fmtTime, row, whyHeaders, whyQuery } = window.Kupol;
  const $ = (id) => document.getElementById(id);
  let why = null;
  let current = null;
  const purpose = window.KupolFaces.purpose((stated) => { why = stated; load(); });

  function item(text) {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }

  async function load() {
    if (!why) return;
    try {
      const queue = await api("/api/citizens/review", { headers: whyHeaders(why) });
      $("cr-queue").hidden = queue.length === 0;
      $("cr-empty").hidden = queue.length > 0;
      $("cr-queue").tBodies[0].replaceChildren(...queue.map((q) => {
        const open = document.createElement("button");
        open.type = "button";
        open.className = "btn btn-small";
        open.textContent = t("creview.open");
        open.addEventListener("click", () => show(q));
        return row([fmtTime(q.report.submitted_at), t("portal.kind." + q.report.kind),
          q.citizen + (q.appeal ? " · " + t("creview.appealed") : ""),
          Math.round(100 * q.reputation) + " %", q.priority.toFixed(2),
          q.report.findings.map((f) => f.kind).join(", "), open]);
      }));
    } catch (err) {
      if (err.status === 428) purpose.refused(err); else $("cr-error").textContent = errorText(err);
    }
  }

  function show(q) {
    current = q;
    const r = q.report;
    $("cr-detail").hidden = false;
    $("cr-error").hidden = true;
    $("cr-detail-title").textContent = t("portal.kind." + r.kind) + " · " + r.id;
    $("cr-description").textContent = r.description;
    $("cr-facts").replaceChildren(
      item(t("creview.when_where", { when: fmtTime(r.occurred_at), lat: r.lat.toFixed(5),
        lon: r.lon.toFixed(5), source: r.location_source })),
      ...(q.appeal ? [item(t("creview.appeal", { text: q.appeal }))] : []),
      ...(r.plates_read.length ? [item(t("creview.plates_read", { plates: r.plates_read
        .map((p) => `${p.text} (${Math.round(100 * p.confidence)} %)`).join(", ") }))] : []),
      ...r.findings.map((f) => item(f.severity + ": " + f.reason)));
    $("cr-media").replaceChildren(...r.media.map((m) => {
      const src = "/api/evidence/" + m.evidence_id + "/file?" + whyQuery(why);
      const media = document.createElement(String(m.media_type).startsWith("video/")
        ? "video" : "img");
      media.src = src;
      if (media.tagName === "VIDEO") media.controls = true; else media.alt = r.description;
      const figure = document.createElement("figure");
      figure.append(media);
      return figure;
    }));
    // The plate reader's surest read is offered; the officer checks it against the media.
    $("cr-plate").value = r.plate || (r.plates_read[0] ? r.plates_read[0].text : "");
  }

  async function decide(body) {
    if (!current) return;
    try {
      await api("/api/citizens/reports/" + current.report.id + "/decision",
        { method: "POST", body });
      $("cr-detail").hidden = true;
      current = null;
      await load();
    } catch (err) {
      $("cr-error").textContent = errorText(err);
      $("cr-error").hidden = false;
    }
  }
  $("cr-confirm").addEventListener("click", () => decide({ outcome: "confirmed",
    offence: current && current.report.kind === "traffic_violation" ? $("cr-offence").value
      : null,
    plate: $("cr-plate").value || null, note: $("cr-note").value }));
  $("cr-reject").addEventListener("click", () => decide({ outcome: "rejected",
    reason: $("cr-reason").value, note: $("cr-note").value }));
})();

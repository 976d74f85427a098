/* Public-order helpers for the situation centre: applications and helpers (approve, decline,
 * suspend, reinstate), their shifts this week (plan, mark), a month's activity, recognition
 * for finished quarters and years, and the patrol areas. Every look is audited with the
 * purpose stated once. */
(function () {
  "use strict";
  const { t, api, errorText, fmtTime, row, whyHeaders } = window.Kupol;
  const $ = (id) => document.getElementById(id);
  let why = null;
  let areas = [];
  const purpose = window.KupolFaces.purpose((stated) => { why = stated; load(); });

  function fail(err) {
    if (err.status === 428) { purpose.refused(err); return; }
    $("hp-error").textContent = errorText(err);
    $("hp-error").hidden = false;
  }
  function button(label, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-small";
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }
  const ACTIONS = { applied: ["approve", "decline"], declined: ["approve"],
    active: ["suspend"], suspended: ["reinstate"] };

  async function decide(helper, decision) {
    let note = "";
    if (decision === "decline" || decision === "suspend") {
      note = window.prompt(t("helpers.why." + decision)) || "";
      if (!note) return;
    }
    try {
      await api(`/api/helpers/${helper.id}/decision`, { method: "POST",
        body: { decision, note } });
      await load();
    } catch (err) { fail(err); }
  }

  async function mark(shift, status) {
    try {
      await api(`/api/helpers/shifts/${shift.id}/mark`, { method: "POST", body: { status } });
      await load();
    } catch (err) { fail(err); }
  }

  function week() {
    const start = new Date();
    start.setHours(0, 0, 0, 0);
    start.setDate(start.getDate() - 1);
    const end = new Date(start.getTime() + 8 * 86400000);
    return { start: start.toISOString(), end: end.toISOString() };
  }

  async function load() {
    if (!why) return;
    $("hp-error").hidden = true;
    try {
      const headers = whyHeaders(why);
      const [helpers, found] = await Promise.all([
        api("/api/helpers", { headers }), api("/api/helpers/areas")]);
      areas = found;
      const areaName = Object.fromEntries(areas.map((a) => [a.id, a.name]));
      $("hp-body").hidden = false;
      $("hp-no-helpers").hidden = helpers.length > 0;
      $("hp-helpers").tBodies[0].replaceChildren(...helpers.map((h) => {
        const actions = document.createElement("span");
        actions.append(...(ACTIONS[h.status] || []).map((d) =>
          button(t("helpers.do." + d), () => decide(h, d))));
        return row([h.full_name, h.phone, t("helpers.state." + h.status),
          fmtTime(h.applied_at), h.motivation, actions]);
      }));
      $("hp-plan-helper").replaceChildren(...helpers.filter((h) => h.status === "active")
        .map((h) => new Option(h.full_name, h.id)));
      $("hp-plan-area").replaceChildren(...areas.map((a) => new Option(a.name, a.id)));
      $("hp-areas").tBodies[0].replaceChildren(...areas.map((a) =>
        row([a.name, a.region || "—", Math.round(a.radius_m), a.description])));
      const shifts = await api("/api/helpers/shifts?" + new URLSearchParams(week()),
        { headers });
      $("hp-no-shifts").hidden = shifts.length > 0;
      $("hp-shifts").tBodies[0].replaceChildren(...shifts.map((s) => {
        const actions = document.createElement("span");
        if (s.status === "planned") {
          actions.append(button(t("helpers.mark_attended"), () => mark(s, "attended")),
            button(t("helpers.mark_no_show"), () => mark(s, "no_show")),
            button(t("helpers.mark_cancelled"), () => mark(s, "cancelled")));
        }
        const checked = [s.checked_in, s.checked_out].map((x) => x ? fmtTime(x) : "—")
          .join(" → ");
        return row([s.helper_name, areaName[s.area_id] || s.area_id, fmtTime(s.start),
          fmtTime(s.end), t("helpers.shift." + s.status), checked, actions]);
      }));
      await activity();
    } catch (err) { fail(err); }
  }

  async function activity() {
    if (!$("hp-month").value) $("hp-month").value = new Date().toISOString().slice(0, 7);
    const month = $("hp-month").value + "-01";
    const rows = await api("/api/helpers/activity?month=" + month,
      { headers: whyHeaders(why) });
    $("hp-activity").tBodies[0].replaceChildren(...rows.map((r) => row([r.name,
      r.activity.planned, r.activity.attended, r.activity.no_shows,
      r.activity.hours.toFixed(1),
      r.reliability === null ? "—" : Math.round(100 * r.reliability) + " %",
      r.activity.reports_confirmed])));
  }

  $("hp-month-form").addEventListener("submit", (event) => {
    event.preventDefault();
    activity().catch(fail);
  });
  $("hp-award").addEventListener("click", async () => {
    const on = $("hp-award-on").value || new Date().toISOString().slice(0, 10);
    try {
      const awarded = await api("/api/helpers/recognitions", { method: "POST", body: { on } });
      $("hp-awarded").replaceChildren(...(awarded.length ? awarded : [null]).map((a) => {
        const li = document.createElement("li");
        li.textContent = a ? t("helpers.awarded", { level: t("helpers.level." + a.level),
          period: a.period, reason: a.reason }) : t("helpers.nothing_awarded");
        return li;
      }));
    } catch (err) { fail(err); }
  });
  $("hp-plan").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api(`/api/helpers/${$("hp-plan-helper").value}/shifts`, { method: "POST", body: {
        area_id: Number($("hp-plan-area").value),
        start: new Date($("hp-plan-start").value).toISOString(),
        end: new Date($("hp-plan-end").value).toISOString() } });
      await load();
    } catch (err) { fail(err); }
  });
  $("hp-area-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("/api/helpers/areas", { method: "POST", body: {
        name: $("hp-area-name").value, lat: Number($("hp-area-lat").value),
        lon: Number($("hp-area-lon").value), radius_m: Number($("hp-area-radius").value) } });
      $("hp-area-form").reset();
      await load();
    } catch (err) { fail(err); }
  });
})();

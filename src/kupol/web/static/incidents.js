/* Incidents: record one, and see the clips linked to it (automatically by time and place, or
 * by hand) and the alerts raised near it while it happened. */
(function () {
  "use strict";
  const { t, api, errorText, fmtTime, fill, toast } = window.Kupol;
  const body = document.querySelector("#incidents-table tbody");
  const empty = document.getElementById("incidents-empty");
  const detail = document.getElementById("incident");
  let current = null;

  async function load() {
    try {
      const items = await api("/api/incidents");
      empty.hidden = items.length > 0;
      body.replaceChildren(...items.map((i) => {
        const tr = document.createElement("tr");
        tr.className = "selectable";
        tr.tabIndex = 0;
        tr.dataset.incidentId = String(i.id);
        [i.number, fmtTime(i.occurred_from), i.title, t("incidents.status." + i.status)]
          .forEach((text) => {
            const td = document.createElement("td");
            td.textContent = text;
            tr.append(td);
          });
        tr.addEventListener("click", () => show(i.id));
        tr.addEventListener("keydown", (e) => { if (e.key === "Enter") show(i.id); });
        return tr;
      }));
    } catch (err) { toast(errorText(err), "error"); }
  }

  async function show(id) {
    let i;
    try { i = await api("/api/incidents/" + id); } catch (err) { toast(errorText(err), "error"); return; }
    current = i;
    body.querySelectorAll("tr").forEach((tr) =>
      tr.classList.toggle("selected", tr.dataset.incidentId === String(id)));
    detail.querySelector('[data-field="empty"]').hidden = true;
    detail.querySelector('[data-field="card"]').hidden = false;
    fill(detail, {
      title: i.title,
      kind: t("incidents.kind." + i.kind),
      number: i.number + " · " + t("incidents.status." + i.status),
      when: fmtTime(i.occurred_from) + " — " + fmtTime(i.occurred_to),
      where: i.latitude.toFixed(5) + ", " + i.longitude.toFixed(5) + " · " +
        t("incidents.within", { m: Math.round(i.radius_m) }),
      case: i.case_number,
      description: i.description,
    });
    document.querySelector("#incident-evidence tbody").replaceChildren(...i.evidence.map((e) => {
      const tr = document.createElement("tr");
      [e.filename, e.device_id, e.officer, e.how === "auto"
        ? t("incidents.auto", { m: Math.round(e.distance_m) }) : t("incidents.manual")]
        .forEach((text) => {
          const td = document.createElement("td");
          td.textContent = text || t("common.none");
          tr.append(td);
        });
      return tr;
    }));
    document.getElementById("incident-alerts").replaceChildren(...(i.alerts.length ? i.alerts
      : [null]).map((a) => {
      const li = document.createElement("li");
      li.textContent = a ? fmtTime(a.raised_at) + " · " + a.camera_id + " · " + a.event_type +
        " · " + Math.round(a.distance_m) + " m" : t("common.none");
      return li;
    }));
    const close = document.getElementById("incident-close");
    if (close) close.hidden = i.status !== "open";
  }

  const form = document.getElementById("incident-form");
  if (form) {
    const error = document.getElementById("incident-error");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const f = form.elements;
      const iso = (value) => (value ? new Date(value).toISOString() : null);
      const payload = {
        kind: f.kind.value,
        title: f.title.value.trim(),
        occurred_from: iso(f.occurred_from.value),
        occurred_to: iso(f.occurred_to.value),
        latitude: Number(f.latitude.value),
        longitude: Number(f.longitude.value),
        radius_m: Number(f.radius_m.value || 300),
        case_number: f.case_number.value.trim() || null,
        description: f.description.value.trim() || null,
      };
      try {
        const made = await api("/api/incidents", { method: "POST", body: payload });
        error.hidden = true;
        form.reset();
        toast(t("incidents.recorded", { number: made.number, count: made.evidence.length }), "ok");
        await load();
        show(made.id);
      } catch (err) {
        error.textContent = errorText(err);
        error.hidden = false;
      }
    });
  }
  const close = document.getElementById("incident-close");
  if (close) {
    close.addEventListener("click", async () => {
      if (!current) return;
      try {
        await api("/api/incidents/" + current.id + "/close", { method: "POST" });
        await load();
        show(current.id);
      } catch (err) { toast(errorText(err), "error"); }
    });
  }
  load();
})();

/* Body cameras and other recorders: registered, handed to an officer for a shift and taken
 * back. A clip is attributed to the officer whose shift covers it. */
(function () {
  "use strict";
  const { t, api, errorText, fmtTime, fill, pageData, toast } = window.Kupol;
  const data = pageData();
  const body = document.querySelector("#devices-table tbody");
  const detail = document.getElementById("device");
  let current = null;

  function cells(tr, texts) {
    texts.forEach((text) => {
      const td = document.createElement("td");
      td.textContent = text || t("common.none");
      tr.append(td);
    });
  }

  async function load() {
    try {
      const devices = await api("/api/devices");
      document.getElementById("devices-empty").hidden = devices.length > 0;
      body.replaceChildren(...devices.map((d) => {
        const tr = document.createElement("tr");
        tr.className = "selectable";
        tr.tabIndex = 0;
        tr.dataset.deviceId = d.id;
        cells(tr, [d.id, t("devices.kind." + d.kind), d.model, d.holder]);
        tr.addEventListener("click", () => show(d));
        tr.addEventListener("keydown", (e) => { if (e.key === "Enter") show(d); });
        return tr;
      }));
    } catch (err) { toast(errorText(err), "error"); }
  }

  async function show(device) {
    current = device;
    body.querySelectorAll("tr").forEach((tr) =>
      tr.classList.toggle("selected", tr.dataset.deviceId === device.id));
    detail.querySelector('[data-field="empty"]').hidden = true;
    detail.querySelector('[data-field="card"]').hidden = false;
    fill(detail, { id: device.id, holder: device.holder ? t("devices.with", { user: device.holder })
      : t("devices.in_store") });
    try {
      const shifts = await api("/api/devices/" + encodeURIComponent(device.id) + "/shifts");
      document.querySelector("#shifts-table tbody").replaceChildren(...shifts.map((s) => {
        const tr = document.createElement("tr");
        cells(tr, [s.officer, fmtTime(s.starts_at), s.ends_at ? fmtTime(s.ends_at) : ""]);
        const action = document.createElement("td");
        if (!s.ends_at && data.can_manage_devices) {
          const back = document.createElement("button");
          back.type = "button";
          back.className = "btn btn-ghost-dark";
          back.textContent = t("devices.take_back");
          back.addEventListener("click", async () => {
            try {
              await api("/api/devices/shifts/" + s.id + "/end", { method: "POST", body: {} });
              await load();
              show(Object.assign({}, device, { holder: null }));
            } catch (err) { toast(errorText(err), "error"); }
          });
          action.append(back);
        }
        tr.append(action);
        return tr;
      }));
    } catch (err) { toast(errorText(err), "error"); }
  }

  const iso = (value) => (value ? new Date(value).toISOString() : null);
  const deviceForm = document.getElementById("device-form");
  if (deviceForm) {
    deviceForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      const f = deviceForm.elements;
      const error = document.getElementById("device-error");
      try {
        await api("/api/devices", { method: "POST", body: { id: f.id.value.trim(),
          kind: f.kind.value, serial: f.serial.value.trim() || null,
          model: f.model.value.trim() || null } });
        error.hidden = true;
        deviceForm.reset();
        load();
      } catch (err) {
        error.textContent = errorText(err);
        error.hidden = false;
      }
    });
  }
  const shiftForm = document.getElementById("shift-form");
  if (shiftForm) {
    shiftForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!current) return;
      const f = shiftForm.elements;
      const error = document.getElementById("shift-error");
      try {
        const shift = await api("/api/devices/" + encodeURIComponent(current.id) + "/shifts", {
          method: "POST", body: { officer: f.officer.value.trim(),
            starts_at: iso(f.starts_at.value), ends_at: iso(f.ends_at.value) } });
        error.hidden = true;
        shiftForm.reset();
        await load();
        show(Object.assign({}, current, { holder: shift.officer }));
      } catch (err) {
        error.textContent = errorText(err);
        error.hidden = false;
      }
    });
  }
  load();
})();

/* The citizens' portal: sign in with a code texted to one's phone, report what one saw with
 * photos or videos (time and place from the media, or now and here), follow one's reports. */
(function () {
  "use strict";
  const { t, api, errorText, fmtTime } = window.Kupol;
  const $ = (id) => document.getElementById(id);
  let picker = null;
  let device = localStorage.getItem("kupol-device");
  if (!device) {
    device = "web-" + Array.from(crypto.getRandomValues(new Uint8Array(8)),
      (b) => b.toString(16).padStart(2, "0")).join("");
    localStorage.setItem("kupol-device", device);
  }
  function fail(err) {
    $("po-error").textContent = errorText(err);
    $("po-error").hidden = false;
  }
  function show(signedIn) {
    $("po-signin").hidden = signedIn;
    const wasHidden = $("po-report").hidden;
    $("po-report").hidden = !signedIn;
    if (wasHidden && signedIn && picker) picker.draw();  // measured once it is shown
    $("po-mine").hidden = !signedIn;
    $("po-helper").hidden = !signedIn;
  }

  /* Patrolling as a public-order helper: apply, take shifts, check in and out on the spot. */
  async function helper() {
    const [me, areas] = await Promise.all([
      api("/api/citizen/helper", { noRedirect: true }),
      api("/api/citizen/helper/areas", { noRedirect: true })]);
    const names = Object.fromEntries(areas.map((a) => [a.id, a.name]));
    for (const id of ["po-apply-area", "po-take-area"]) {
      $(id).replaceChildren(...areas.map((a) => new Option(a.name, a.id)));
    }
    $("po-helper-status").textContent = me ? t("portal.helper_is", {
      status: t("helpers.state." + me.status) }) : "";
    $("po-apply").hidden = Boolean(me) && me.status !== "declined";
    $("po-take").hidden = !me || me.status !== "active";
    $("po-shifts").replaceChildren(...(me ? me.shifts : []).map((s) => {
      const li = document.createElement("li");
      li.className = "portal-report";
      li.dataset.status = s.status;
      const head = document.createElement("strong");
      head.textContent = (names[s.area_id] || "") + " · " + t("helpers.shift." + s.status);
      const when = document.createElement("p");
      when.className = "hint";
      when.textContent = fmtTime(s.start) + " – " + fmtTime(s.end);
      li.append(head, when);
      if (s.status === "planned") {
        li.append(s.checked_in ? shiftButton(s, "check-out", t("portal.check_out"))
          : shiftButton(s, "check-in", t("portal.check_in")));
        if (!s.checked_in && new Date(s.start) > new Date()) {
          li.append(shiftButton(s, "cancel", t("portal.cancel_shift")));
        }
      }
      return li;
    }));
    $("po-recognitions").replaceChildren(...(me ? me.recognitions : []).map((r) => {
      const li = document.createElement("li");
      li.textContent = t("helpers.level." + r.level) + " · " + r.period;
      return li;
    }));
  }

  function shiftButton(s, way, label) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "btn";
    b.textContent = label;
    b.addEventListener("click", async () => {
      $("po-error").hidden = true;
      try {
        if (way === "cancel") {
          await api(`/api/citizen/helper/shifts/${s.id}`, { method: "DELETE", noRedirect: true });
        } else {
          const coords = await position();
          await api(`/api/citizen/helper/shifts/${s.id}/${way}`, { method: "POST",
            noRedirect: true, body: { lat: coords.latitude, lon: coords.longitude } });
        }
        await helper();
      } catch (err) {
        fail(err);
      }
    });
    return b;
  }

  function position() {
    return new Promise((resolve, reject) => {
      if (!navigator.geolocation) { reject(new Error(t("portal.no_location"))); return; }
      navigator.geolocation.getCurrentPosition((p) => resolve(p.coords),
        () => reject(new Error(t("portal.no_location"))), { timeout: 8000 });
    });
  }

  async function mine() {
    try {
      const reports = await api("/api/citizen/reports", { noRedirect: true });
      show(true);
      $("po-list").replaceChildren(...reports.map((r) => {
        const li = document.createElement("li");
        li.className = "portal-report";
        li.dataset.status = r.status;
        const head = document.createElement("strong");
        head.textContent = t("portal.kind." + r.kind) + " · " + t("portal.status." + r.status);
        const when = document.createElement("span");
        when.className = "hint";
        when.textContent = " " + fmtTime(r.occurred_at);
        const body = document.createElement("p");
        body.textContent = r.description;
        li.append(head, when, body);
        if (r.decision_note) {
          const note = document.createElement("p");
          note.className = "hint";
          note.textContent = r.decision_note;
          li.append(note);
        }
        if (r.reward_tenge) {
          const reward = document.createElement("p");
          reward.className = "portal-reward";
          reward.textContent = t("portal.reward", {
            tenge: Number(r.reward_tenge).toLocaleString("ru-RU") });
          li.append(reward);
        }
        if (r.reward_reversal) {
          const back = document.createElement("p");
          back.className = "hint portal-reward-back";
          back.textContent = t("portal.reward_back", { reason: r.reward_reversal });
          li.append(back);
        }
        if (r.incident_id) {
          const passed = document.createElement("p");
          passed.className = "hint";
          passed.textContent = t("portal.incident");
          li.append(passed);
        }
        li.append(previews(r));
        if (r.status === "rejected" && !r.appeal_text) li.append(appealForm(r));
        return li;
      }));
      $("po-none").hidden = reports.length > 0;
      await helper();
    } catch (err) {
      if (err.status === 401 || err.status === 403) show(false); else fail(err);
    }
  }

  /* The report's photos and videos as shown back: faces blurred by the server. */
  function previews(r) {
    const row = document.createElement("div");
    row.className = "portal-previews";
    r.media.forEach((m, n) => {
      const img = document.createElement("img");
      img.loading = "lazy";
      img.alt = t("portal.preview", { n: n + 1 });
      img.src = `/api/citizen/reports/${r.id}/media/${n}/preview`;
      row.append(img);
    });
    return row;
  }

  function appealForm(r) {
    const box = document.createElement("div");
    box.className = "portal-appeal";
    const open = document.createElement("button");
    open.type = "button";
    open.className = "btn";
    open.textContent = t("portal.appeal");
    const text = document.createElement("textarea");
    text.rows = 3;
    text.maxLength = 2000;
    text.hidden = true;
    text.setAttribute("aria-label", t("portal.appeal_why"));
    text.placeholder = t("portal.appeal_why");
    const send = document.createElement("button");
    send.type = "button";
    send.className = "btn btn-primary";
    send.textContent = t("portal.appeal_send");
    send.hidden = true;
    open.addEventListener("click", () => {
      open.hidden = true;
      text.hidden = false;
      send.hidden = false;
      text.focus();
    });
    send.addEventListener("click", async () => {
      $("po-error").hidden = true;
      try {
        await api(`/api/citizen/reports/${r.id}/appeal`, { method: "POST", noRedirect: true,
          body: { text: text.value } });
        await mine();
      } catch (err) {
        fail(err);
      }
    });
    box.append(open, text, send);
    return box;
  }

  $("po-send").addEventListener("click", async () => {
    $("po-error").hidden = true;
    try {
      await api("/api/citizen/code", { method: "POST",
        body: { phone: $("po-phone").value, device_id: device }, noRedirect: true });
      $("po-code-field").hidden = false;
      $("po-login").hidden = false;
      $("po-code").focus();
    } catch (err) {
      fail(err);
    }
  });
  $("po-signin").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("po-error").hidden = true;
    try {
      await api("/api/citizen/login", { method: "POST", noRedirect: true,
        body: { phone: $("po-phone").value, code: $("po-code").value, device_id: device } });
      await mine();
    } catch (err) {
      fail(err);
    }
  });

  function here() {
    return new Promise((resolve) => {
      if (!$("po-here").checked || !navigator.geolocation) { resolve(null); return; }
      navigator.geolocation.getCurrentPosition((p) => resolve(p.coords), () => resolve(null),
        { timeout: 8000 });
    });
  }
  $("po-report").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("po-error").hidden = true;
    const form = new FormData();
    form.append("kind", $("po-kind").value);
    form.append("description", $("po-description").value);
    form.append("device_id", device);
    if ($("po-when").value) form.append("occurred_at", new Date($("po-when").value).toISOString());
    const coords = await here();
    if (coords) {
      form.append("lat", String(coords.latitude));
      form.append("lon", String(coords.longitude));
    } else if ($("po-lat").value && $("po-lon").value) {  // the place typed in
      form.append("lat", $("po-lat").value);
      form.append("lon", $("po-lon").value);
    }
    [...$("po-files").files].forEach((file) => form.append("files", file, file.name));
    try {
      const made = await api("/api/citizen/reports", { method: "POST", body: form,
        noRedirect: true });
      $("po-sent").textContent = t("portal.sent", { id: made.id });
      $("po-sent").hidden = false;
      $("po-report").reset();
      await mine();
    } catch (err) {
      fail(err);
    }
  });
  $("po-apply").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("po-error").hidden = true;
    try {
      await api("/api/citizen/helper", { method: "POST", noRedirect: true, body: {
        full_name: $("po-full-name").value, motivation: $("po-motivation").value,
        home_area_id: $("po-apply-area").value ? Number($("po-apply-area").value) : null } });
      await helper();
    } catch (err) {
      fail(err);
    }
  });
  $("po-take").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("po-error").hidden = true;
    try {
      await api("/api/citizen/helper/shifts", { method: "POST", noRedirect: true, body: {
        area_id: Number($("po-take-area").value),
        start: new Date($("po-take-start").value).toISOString(),
        end: new Date($("po-take-end").value).toISOString() } });
      $("po-take").reset();
      await helper();
    } catch (err) {
      fail(err);
    }
  });
  picker = window.KupolPlacePicker($("po-map"), $("po-map-tiles"), $("po-map-pin"),
    $("po-zoom-in"), $("po-zoom-out"), $("po-lat"), $("po-lon"),
    { lat: 51.1283, lon: 71.4305, zoom: 12 });
  $("po-report").addEventListener("reset", () => picker.clear());
  mine();
})();

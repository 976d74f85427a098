/* The citizens' portal: sign in with a code texted to one's phone, report what one saw with
 * photos or videos (time and place from the media, or now and here), follow one's reports. */
(function () {
  "use strict";
  const { t, api, errorText, fmtTime } = window.Kupol;
  const $ = (id) => document.getElementById(id);
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
    $("po-report").hidden = !signedIn;
    $("po-mine").hidden = !signedIn;
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
        return li;
      }));
      $("po-none").hidden = reports.length > 0;
    } catch (err) {
      if (err.status === 401 || err.status === 403) show(false); else fail(err);
    }
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
  mine();
})();

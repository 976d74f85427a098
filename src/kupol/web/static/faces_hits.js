/* Face hit review: the queue newest first, the camera's face beside the enrolled one, and a
 * decision with a note. A hit is a lead for a person to check, never an identification. The
 * queue reloads when the live feed reports a face match (or every few seconds without it). */
(function () {
  "use strict";
  const { t, api, errorText, toast, fmtTime, fill, live, pageData, whyHeaders, whyQuery } =
    window.Kupol;
  const { purpose } = window.KupolFaces;
  const data = pageData();
  const cameras = data.cameras || {};
  const list = document.getElementById("hits");
  const tpl = document.getElementById("hit-tpl");
  const statusSelect = document.getElementById("hit-status");
  const dialog = document.getElementById("decide-dialog");
  const error = document.getElementById("hits-error");
  const POLL_MS = 8000;
  const DECISIONS = {
    confirmed: { title: "hits.confirm_title", reminder: "hits.confirm_reminder",
      button: "hits.confirm_button", toast: "hits.confirmed_toast", style: "btn-confirm" },
    rejected: { title: "hits.reject_title", reminder: "hits.reject_reminder",
      button: "hits.reject_button", toast: "hits.rejected_toast", style: "btn-danger" },
  };
  const shown = new Map();  // hit id -> the hit as last drawn
  let loading = false;
  let again = false;
  let loaded = false;
  const why = purpose(() => {
    list.replaceChildren();  // the images were fetched under the previous purpose
    shown.clear();
    loaded = false;
    load();
  });

  function cameraLabel(id) { return cameras[id] ? cameras[id] + " (" + id + ")" : id; }

  function imageUrl(hit, which) {
    return "/api/faces/hits/" + hit.id + "/" + which + ".jpg?" + whyQuery(why.get());
  }

  function update(node, hit) {
    node.dataset.status = hit.status;
    fill(node, {
      person: hit.person, watchlist: hit.watchlist, status: t("hits.status." + hit.status),
      time: fmtTime(hit.last_seen_at), number: t("hits.number", { id: hit.id }),
      camera: cameraLabel(hit.camera_id), first: fmtTime(hit.first_seen_at),
      sightings: hit.sightings,
      similarity: t("hits.similarity", {
        similarity: hit.similarity.toFixed(3), threshold: hit.threshold.toFixed(3),
      }),
    });
    node.querySelector("time.ts").dateTime = hit.last_seen_at;
    node.querySelector(".sim-fill").style.width = Math.round(hit.similarity * 100) + "%";
    node.querySelector(".sim-threshold").style.left = Math.round(hit.threshold * 100) + "%";
    const decision = node.querySelector('[data-field="decision"]');
    decision.hidden = hit.status === "pending";
    decision.textContent = hit.status === "pending" ? "" : t("hits.decided_by", {
      user: hit.decided_by, time: fmtTime(hit.decided_at), note: hit.decision_note,
    });
    node.querySelector(".alert-actions").hidden = hit.status !== "pending";
  }

  function create(hit) {
    const node = tpl.content.firstElementChild.cloneNode(true);
    node.dataset.hitId = String(hit.id);
    const probe = node.querySelector('[data-image="probe"]');
    probe.src = imageUrl(hit, "probe");
    probe.alt = t("hits.probe_alt", { id: hit.id });
    const enrolled = node.querySelector('[data-image="enrolled"]');
    enrolled.src = imageUrl(hit, "enrolled");
    enrolled.alt = t("hits.enrolled_alt", { name: hit.person });
    return node;
  }

  /** Draw the hits in the server's order (newest first), keeping the nodes (and so the
   * images, each an audited read) of hits already shown. */
  function draw(hits) {
    const fresh = [];
    const nodes = hits.map((hit) => {
      let node = list.querySelector('[data-hit-id="' + hit.id + '"]');
      if (!node) {
        node = create(hit);
        if (loaded) {
          fresh.push(hit);
          node.classList.add("is-new");
          setTimeout(() => node.classList.remove("is-new"), 4000);
        }
      }
      update(node, hit);
      return node;
    });
    list.replaceChildren(...nodes);
    shown.clear();
    hits.forEach((hit) => shown.set(hit.id, hit));
    if (fresh.length && statusSelect.value === "pending") {
      toast(t("hits.new_toast", { count: fresh.length }), "alert");
    }
    const empty = document.getElementById("no-hits");
    empty.textContent = t(statusSelect.value === "pending" ? "hits.none_pending" : "hits.none");
    empty.hidden = hits.length > 0;
    document.getElementById("hits-count").textContent = t("hits.count", { count: hits.length });
    loaded = true;
  }

  async function load() {
    const stated = why.get();
    document.getElementById("hits-locked").hidden = Boolean(stated);
    if (!stated) return;
    if (loading) {  // a burst of matches: one more load after this one is enough
      again = true;
      return;
    }
    loading = true;
    try {
      const query = new URLSearchParams({ status: statusSelect.value, limit: "100" });
      draw(await api("/api/faces/hits?" + query.toString(), { headers: whyHeaders(stated) }));
      error.hidden = true;
    } catch (err) {
      if (err.status === 428) why.refused(err);
      error.textContent = errorText(err);
      error.hidden = false;
    } finally {
      loading = false;
      if (again) {
        again = false;
        load();
      }
    }
  }

  function askToDecide(id, status) {
    const hit = shown.get(id);
    const texts = DECISIONS[status];
    const form = dialog.querySelector("form");
    form.reset();
    dialog.dataset.hitId = String(id);
    dialog.dataset.status = status;
    fill(dialog, {
      title: t(texts.title, { id, name: hit.person }), reminder: t(texts.reminder),
    });
    const button = dialog.querySelector('[data-action="decide"]');
    button.textContent = t(texts.button);
    button.className = "btn " + texts.style;
    dialog.querySelector('[data-field="error"]').hidden = true;
    dialog.showModal();
  }

  async function decide(event) {
    event.preventDefault();
    const id = Number(dialog.dataset.hitId);
    const status = dialog.dataset.status;
    const note = document.getElementById("decide-note").value.trim();
    const problem = dialog.querySelector('[data-field="error"]');
    if (note.length < 3) {
      problem.textContent = t("hits.note_too_short");
      problem.hidden = false;
      return;
    }
    try {
      await api("/api/faces/hits/" + id + "/decision", { method: "POST", body: { status, note } });
      dialog.close();
      toast(t(DECISIONS[status].toast, { id }), "ok");
      load();
    } catch (err) {
      if (err.status === 409 || err.status === 404) {  // decided by someone else meanwhile
        dialog.close();
        toast(errorText(err), "error");
        load();
        return;
      }
      problem.textContent = errorText(err);
      problem.hidden = false;
    }
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    askToDecide(Number(button.closest("[data-hit-id]").dataset.hitId), button.dataset.action);
  });
  dialog.querySelector("form").addEventListener("submit", decide);
  dialog.querySelector('[data-action="cancel"]').addEventListener("click", () => dialog.close());
  statusSelect.addEventListener("change", () => {
    list.replaceChildren();
    loaded = false;
    load();
  });

  const isMatch = (event) => event.type === "face_match";
  if (data.live) {
    live({
      CameraEventsRecorded: (batch) => { if (batch.events.some(isMatch)) load(); },
      AlertChanged: (change) => { if (change.event_type === "face_match") load(); },
      reconnected: load,
    });
  } else {
    setInterval(load, POLL_MS);
  }
})();

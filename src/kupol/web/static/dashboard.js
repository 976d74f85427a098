/* Dashboard: live alerts (newest first) with acknowledge/close, counts, recent events. */
(function () {
  "use strict";
  const { t, api, errorText, toast, fmtTime, fill, live, pageData } = window.Kupol;
  const data = pageData();
  const cameras = data.cameras || {};
  const list = document.getElementById("alerts");
  const alertTpl = document.getElementById("alert-tpl");
  const ticker = document.getElementById("ticker");
  const tickTpl = document.getElementById("tick-tpl");
  const dialog = document.getElementById("close-dialog");
  const TICKER_SIZE = 12;
  const alerts = new Map();
  let closedCount = data.counts.closed || 0;

  function cameraLabel(id) { return cameras[id] ? cameras[id] + " (" + id + ")" : id; }

  /** An alert from the API (AlertRead) or the feed (AlertChanged, whose own `id` is the
   * message's) in one shape. */
  function normalise(a) {
    const id = a.alert_id !== undefined ? a.alert_id : a.id;
    return {
      id,
      rule_name: a.rule_name, camera_id: a.camera_id, event_type: a.event_type,
      zone: a.zone, severity: a.severity, status: a.status, raised_at: a.raised_at,
      event_count: a.event_count,
      acknowledged_by: a.acknowledged_by || (a.change === "acknowledged" ? a.by : null) ||
        (alerts.get(id) || {}).acknowledged_by || null,
    };
  }

  function newer(a, b) {
    const ta = Date.parse(a.raised_at);
    const tb = Date.parse(b.raised_at);
    return ta > tb || (ta === tb && a.id > b.id);
  }

  function place(node, alert) {
    const before = Array.from(list.children).find((child) => {
      const other = alerts.get(Number(child.dataset.alertId));
      return other && other.id !== alert.id && newer(alert, other);
    });
    if (node.parentNode !== list || node.nextElementSibling !== before) {
      list.insertBefore(node, before || null);
    }
  }

  function draw(alert, isNew) {
    let node = list.querySelector('[data-alert-id="' + alert.id + '"]');
    if (!node) {
      node = alertTpl.content.firstElementChild.cloneNode(true);
      node.dataset.alertId = String(alert.id);
      if (isNew) {
        node.classList.add("is-new");
        setTimeout(() => node.classList.remove("is-new"), 4000);
      }
    }
    node.dataset.severity = alert.severity;
    node.dataset.status = alert.status;
    fill(node, {
      severity: t("severity." + alert.severity), rule: alert.rule_name,
      status: t("status." + alert.status), number: t("alert.number", { id: alert.id }),
      camera: cameraLabel(alert.camera_id), type: alert.event_type, zone: alert.zone,
      count: alert.event_count, raised: fmtTime(alert.raised_at),
    });
    node.querySelector("time.ts").dateTime = alert.raised_at;
    const by = node.querySelector('[data-field="by"]');
    by.hidden = !alert.acknowledged_by;
    by.textContent = alert.acknowledged_by
      ? t("alert.acknowledged_by", { user: alert.acknowledged_by }) : "";
    const ack = node.querySelector('[data-action="acknowledge"]');
    if (ack) ack.hidden = alert.status !== "open";
    place(node, alert);
  }

  function refreshCounts() {
    const counts = { open: 0, acknowledged: 0, closed: closedCount };
    alerts.forEach((a) => { counts[a.status] += 1; });
    document.querySelectorAll("[data-count]").forEach((node) => {
      node.textContent = String(counts[node.dataset.count] || 0);
    });
    document.getElementById("no-alerts").hidden = alerts.size > 0;
  }

  /** Show an alert's new state; closed alerts leave the list. */
  function apply(raw, isNew) {
    const alert = normalise(raw);
    if (alert.status === "closed") {
      alerts.delete(alert.id);
      const node = list.querySelector('[data-alert-id="' + alert.id + '"]');
      if (node) node.remove();
    } else {
      alerts.set(alert.id, alert);
      draw(alert, isNew);
    }
    refreshCounts();
  }

  function onAlertChanged(change) {
    if (change.change === "closed") closedCount += 1;
    if (change.change === "raised") {
      toast(t("alert.new_toast", { rule: change.rule_name }), "alert");
    }
    apply(change, change.change === "raised");
  }

  function onEventsRecorded(batch) {
    batch.events.forEach(showEvent);
    while (ticker.children.length > TICKER_SIZE) ticker.lastElementChild.remove();
    document.getElementById("no-events").hidden = ticker.children.length > 0;
  }

  function showEvent(event) {
    const node = tickTpl.content.firstElementChild.cloneNode(true);
    fill(node, {
      time: fmtTime(event.occurred_at), type: event.type,
      camera: cameraLabel(event.camera_id),
      confidence: Math.round(event.confidence * 100) + "%",
    });
    node.querySelector("time.ts").dateTime = event.occurred_at;
    ticker.prepend(node);
  }

  async function resync() {
    try {
      const fresh = (await api("/api/alerts?status=open&limit=200"))
        .concat(await api("/api/alerts?status=acknowledged&limit=200"));
      closedCount = (await api("/api/alerts/counts")).closed;
      alerts.clear();
      list.replaceChildren();
      fresh.forEach((a) => apply(a, false));
      refreshCounts();
    } catch (err) {
      toast(errorText(err), "error");
    }
  }

  async function acknowledge(id, button) {
    button.disabled = true;
    try {
      apply(await api("/api/alerts/" + id + "/acknowledge", { method: "POST" }), false);
      toast(t("alert.acknowledged_toast", { id }), "ok");
    } catch (err) {
      toast(errorText(err), "error");
      if (err.status === 409 || err.status === 404) resync();
    } finally {
      button.disabled = false;
    }
  }

  function askToClose(id) {
    const form = dialog.querySelector("form");
    form.reset();
    dialog.dataset.alertId = String(id);
    fill(dialog, { title: t("alert.close_title", { id }) });
    dialog.querySelector('[data-field="error"]').hidden = true;
    dialog.showModal();
  }

  async function confirmClose(event) {
    event.preventDefault();
    const id = Number(dialog.dataset.alertId);
    const comment = document.getElementById("close-comment").value.trim();
    const error = dialog.querySelector('[data-field="error"]');
    if (comment.length < 3) {
      error.textContent = t("alert.comment_too_short");
      error.hidden = false;
      return;
    }
    try {
      apply(await api("/api/alerts/" + id + "/close", { method: "POST", body: { comment } }));
      dialog.close();
      toast(t("alert.closed_toast", { id }), "ok");
    } catch (err) {
      if (err.status === 409 || err.status === 404) {  // someone else closed it meanwhile
        dialog.close();
        toast(errorText(err), "error");
        resync();
        return;
      }
      error.textContent = errorText(err);
      error.hidden = false;
    }
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const id = Number(button.closest("[data-alert-id]").dataset.alertId);
    if (button.dataset.action === "acknowledge") acknowledge(id, button);
    if (button.dataset.action === "close") askToClose(id);
  });
  if (dialog) {
    dialog.querySelector("form").addEventListener("submit", confirmClose);
    dialog.querySelector('[data-action="cancel"]').addEventListener("click", () => dialog.close());
  }

  data.alerts.forEach((a) => apply(a, false));
  refreshCounts();
  live({ AlertChanged: onAlertChanged, CameraEventsRecorded: onEventsRecorded, reconnected: resync });
})();

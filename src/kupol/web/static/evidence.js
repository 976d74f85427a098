/* The evidence browser: a docked camera's folder imported, items found under a stated
 * purpose (audited), a clip played, its chain of custody, its incidents, a legal hold, an
 * export package of the ticked items, a redaction. */
(function () {
  "use strict";
  const { t, api, errorText, fmtTime, fill, pageData, toast, whyHeaders, whyQuery } = window.Kupol;
  const data = pageData();
  const filter = document.getElementById("evidence-filter");
  const purpose = window.KupolFaces.purpose(() => { filter.hidden = false; load(); });
  const body = document.querySelector("#items-table tbody");
  const empty = document.getElementById("items-empty");
  const detail = document.getElementById("item");
  const exportButton = document.getElementById("export");
  const ticked = new Set();
  let current = null;

  function refused(err) {
    if (err.status === 428) purpose.refused(err); else toast(errorText(err), "error");
  }

  async function load() {
    const why = purpose.get();
    if (!why) return;
    const query = new URLSearchParams();
    new FormData(filter).forEach((value, key) => { if (value) query.set(key, String(value)); });
    try {
      const items = await api("/api/evidence?" + query.toString(), { headers: whyHeaders(why) });
      empty.hidden = items.length > 0;
      body.replaceChildren(...items.map(row));
    } catch (err) { refused(err); }
  }

  function row(item) {
    const tr = document.createElement("tr");
    tr.className = "selectable";
    tr.tabIndex = 0;
    tr.dataset.itemId = String(item.id);
    const tick = document.createElement("td");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.setAttribute("aria-label", t("evidence.select") + " " + item.filename);
    box.checked = ticked.has(item.id);
    box.addEventListener("click", (e) => e.stopPropagation());
    box.addEventListener("change", () => {
      if (box.checked) ticked.add(item.id); else ticked.delete(item.id);
      if (exportButton) exportButton.disabled = ticked.size === 0;
    });
    tick.append(box);
    tr.append(tick);
    [fmtTime(item.started_at || item.ingested_at), item.filename, item.device_id, item.officer,
      item.case_number].forEach((text) => {
      const td = document.createElement("td");
      td.textContent = text || t("common.none");
      tr.append(td);
    });
    if (item.on_hold) tr.cells[2].textContent += " · " + t("evidence.on_hold");
    tr.addEventListener("click", () => show(item.id));
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter") show(item.id); });
    return tr;
  }

  async function show(id) {
    const why = purpose.get();
    if (!why) return;
    let item;
    try {
      item = await api("/api/evidence/" + id, { headers: whyHeaders(why) });
    } catch (err) { refused(err); return; }
    current = item;
    body.querySelectorAll("tr").forEach((tr) =>
      tr.classList.toggle("selected", tr.dataset.itemId === String(id)));
    detail.querySelector('[data-field="empty"]').hidden = true;
    detail.querySelector('[data-field="card"]').hidden = false;
    const attribution = item.attribution ? " · " + t("evidence.attribution." + item.attribution) : "";
    fill(detail, {
      filename: item.filename,
      category: t("evidence.category." + item.category),
      span: fmtTime(item.started_at) + " — " + fmtTime(item.ended_at),
      device: item.device_id,
      officer: (item.officer || t("common.none")) + attribution,
      case: item.case_number,
      sha256: item.sha256,
      retention: item.purged_at ? t("evidence.purged", { when: fmtTime(item.purged_at) })
        : (item.on_hold ? t("evidence.on_hold") + " · " : "") +
          (item.retain_until ? t("evidence.kept_until", { when: fmtTime(item.retain_until) })
            : t("evidence.kept_case")),
      original: item.derived_from ? "#" + item.derived_from : "",
    });
    const player = detail.querySelector('[data-field="player"]');
    player.replaceChildren();
    if (!item.purged_at && item.media_type.startsWith("video/")) {
      const video = document.createElement("video");
      video.controls = true;
      video.preload = "metadata";
      video.src = "/api/evidence/" + id + "/file?" + whyQuery(why);
      player.append(video);
    } else if (!item.purged_at) {
      const link = document.createElement("a");
      link.href = "/api/evidence/" + id + "/file?" + whyQuery(why);
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = t("evidence.open_file");
      player.append(link);
    }
    const redact = document.getElementById("redact");
    if (redact) {
      redact.hidden = !item.media_type.startsWith("video/") || Boolean(item.purged_at);
      redact.href = "/evidence/redaction?item=" + id;
    }
    const hold = document.getElementById("hold");
    if (hold) hold.textContent = item.on_hold ? t("evidence.release") : t("evidence.hold");
    await Promise.all([custody(id), incidents(id)]);
  }

  async function custody(id) {
    const list = document.getElementById("custody");
    try {
      const entries = await api("/api/evidence/" + id + "/custody");
      list.replaceChildren(...entries.map((e) => {
        const li = document.createElement("li");
        li.className = "custody-entry";
        const seq = document.createElement("span");
        seq.className = "seq";
        seq.textContent = String(e.seq);
        const what = document.createElement("span");
        what.className = "what";
        what.textContent = t("custody.action." + e.action) + " · " + e.actor + " · " + fmtTime(e.at);
        const info = document.createElement("span");
        info.className = "detail";
        const details = Object.entries(e.details || {}).filter(([k]) => k !== "sha256")
          .map(([k, v]) => k + ": " + (typeof v === "object" ? JSON.stringify(v) : v));
        info.textContent = details.join(" · ") + (details.length ? " · " : "") + "#" +
          e.hash.slice(0, 12);
        li.append(seq, what, info);
        return li;
      }));
    } catch (err) { toast(errorText(err), "error"); }
  }

  async function incidents(id) {
    const node = detail.querySelector('[data-field="incidents"]');
    try {
      const found = await api("/api/evidence/" + id + "/incidents");
      node.textContent = found.length ? found.map((i) => i.number + " " + i.title +
        " (" + (i.how === "auto" ? t("incidents.auto", { m: Math.round(i.distance_m) })
          : t("incidents.manual")) + ")").join("; ") : t("common.none");
    } catch (err) { node.textContent = t("common.none"); }
  }

  filter.addEventListener("submit", (e) => { e.preventDefault(); load(); });

  const dock = document.getElementById("dock-form");
  if (dock) {
    dock.addEventListener("submit", async (e) => {
      e.preventDefault();
      const files = document.getElementById("dock-files").files;
      if (!files.length) { toast(t("evidence.dock_choose"), "error"); return; }
      const form = new FormData();
      Array.from(files).forEach((file) => form.append("files", file, file.name));
      form.append("category", dock.elements.category.value);
      const report = document.getElementById("dock-report");
      try {
        const done = await api("/api/evidence/dock", { method: "POST", body: form });
        const lines = [t("evidence.dock_done", { imported: done.imported.length,
          duplicates: done.duplicates.length, refused: done.refused.length })]
          .concat(done.refused.map((r) => r.file + ": " + r.reason));
        report.replaceChildren(...lines.map((text) => {
          const li = document.createElement("li");
          li.textContent = text;
          return li;
        }));
        report.hidden = false;
        toast(lines[0], done.refused.length ? "error" : "ok");
        load();
      } catch (err) { toast(errorText(err), "error"); }
    });
  }

  const holdForm = document.getElementById("hold-form");
  if (holdForm) {
    holdForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!current) return;
      try {
        await api("/api/evidence/" + current.id + "/hold", { method: "POST",
          body: { reason: holdForm.elements.reason.value, on: !current.on_hold } });
        holdForm.reset();
        show(current.id);
      } catch (err) { toast(errorText(err), "error"); }
    });
  }

  if (exportButton) {
    exportButton.addEventListener("click", async () => {
      const why = purpose.get();
      if (!why || !ticked.size) return;
      const response = await fetch("/api/evidence/export", {
        method: "POST",
        credentials: "same-origin",
        headers: Object.assign({ "Content-Type": "application/json",
          "X-CSRF-Token": (document.cookie.match(/kupol_csrf=([^;]+)/) || [])[1] || "" },
        whyHeaders(why)),
        body: JSON.stringify({ item_ids: Array.from(ticked) }),
      });
      if (!response.ok) { toast(t("error.generic", { detail: response.status }), "error"); return; }
      const blob = await response.blob();
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = "evidence-" + response.headers.get("X-Package-Id") + ".zip";
      document.body.append(link);
      link.click();
      link.remove();
      toast(t("evidence.exported", { count: ticked.size }), "ok");
    });
  }
  void data;
})();

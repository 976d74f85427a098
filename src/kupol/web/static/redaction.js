/* The redaction editor: faces and plates found through a clip (in the background), each kept
 * visible or hidden, regions drawn by hand on a frame, then the redacted copy rendered as a
 * new evidence item. Every frame looked at is a view of the original, in its custody. */
(function () {
  "use strict";
  const { t, api, errorText, fmtTime, toast, whyHeaders, whyQuery } = window.Kupol;
  const params = new URLSearchParams(location.search);
  const editor = document.getElementById("editor");
  const status = document.getElementById("redaction-status");
  const frame = document.getElementById("frame");
  const slider = document.getElementById("frame-t");
  const drawBox = document.getElementById("draw-box");
  const addForm = document.getElementById("add-form");
  const result = document.getElementById("result");
  let job = null;
  let drawn = null;
  const purpose = window.KupolFaces.purpose(() => open());

  async function open() {
    const why = purpose.get();
    try {
      if (params.get("redaction")) {
        job = await api("/api/redactions/" + Number(params.get("redaction")));
      } else if (params.get("item")) {
        const item = Number(params.get("item"));
        const jobs = await api("/api/redactions?item_id=" + item);
        job = jobs.reverse().find((j) => ["detecting", "planned", "rendering"].includes(j.status));
        if (!job) {
          job = await api("/api/redactions", { method: "POST", body: { item_id: item },
            headers: whyHeaders(why) });
        }
      } else {
        document.getElementById("redaction-none").hidden = false;
        return;
      }
    } catch (err) {
      if (err.status === 428) purpose.refused(err); else toast(errorText(err), "error");
      return;
    }
    history.replaceState(null, "", "/evidence/redaction?redaction=" + job.id);
    follow();
  }

  async function follow() {
    showStatus();
    if (job.status === "detecting" || job.status === "rendering") {
      setTimeout(async () => {
        try { job = await api("/api/redactions/" + job.id); } catch (err) { return; }
        follow();
      }, 1000);
      return;
    }
    if (job.status === "planned" || job.status === "done") {
      editor.hidden = false;
      const last = Math.max(1, ...job.tracks.map((tr) => tr.samples[tr.samples.length - 1][0]));
      slider.max = String(Math.ceil(last + 1));
      tracks();
      showFrame();
    }
    if (job.status === "done") {
      result.textContent = t("redaction.result", { id: job.result_item_id });
      document.getElementById("apply").hidden = true;
      addForm.hidden = true;
    }
    if (job.status === "failed") toast(job.error || t("redaction.status.failed"), "error");
  }

  function showStatus() {
    status.hidden = false;
    const pct = job.status === "detecting" || job.status === "rendering"
      ? " " + Math.round(job.progress * 100) + "%" : "";
    status.textContent = t("redaction.status." + job.status) + pct;
  }

  function showFrame() {
    const why = purpose.get();
    if (!why || !job) return;
    const at = Number(slider.value);
    document.getElementById("frame-time").textContent = at.toFixed(1) + " s";
    frame.src = "/api/redactions/" + job.id + "/frame?t=" + at + "&" + whyQuery(why);
  }

  function tracks() {
    const body = document.querySelector("#tracks-table tbody");
    document.getElementById("tracks-count").textContent =
      t("redaction.count", { count: job.tracks.length, kept: job.kept.length });
    const editable = job.status === "planned";
    body.replaceChildren(...job.tracks.map((tr) => {
      const row = document.createElement("tr");
      const first = tr.samples[0][0];
      const last = tr.samples[tr.samples.length - 1][0];
      [tr.id, t("redaction.kind." + tr.kind), first.toFixed(1) + "–" + last.toFixed(1) + " s"]
        .forEach((text, i) => {
          const td = document.createElement("td");
          if (i === 0) {
            const go = document.createElement("button");
            go.type = "button";
            go.className = "btn btn-ghost-dark";
            go.textContent = text;
            go.addEventListener("click", () => { slider.value = String(first); showFrame(); });
            td.append(go);
          } else td.textContent = text;
          row.append(td);
        });
      const cell = document.createElement("td");
      if (tr.kind === "manual") {
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "btn btn-ghost-dark";
        remove.textContent = t("redaction.remove");
        remove.disabled = !editable;
        remove.addEventListener("click", () => edit({ remove: [tr.id] }));
        cell.append(remove);
      } else {
        const keep = document.createElement("input");
        keep.type = "checkbox";
        keep.checked = job.kept.includes(tr.id);
        keep.disabled = !editable;
        keep.setAttribute("aria-label", t("redaction.visible") + " " + tr.id);
        keep.addEventListener("change", () =>
          edit(keep.checked ? { keep: [tr.id] } : { hide: [tr.id] }));
        cell.append(keep);
      }
      row.append(cell);
      return row;
    }));
  }

  async function edit(change) {
    try {
      job = await api("/api/redactions/" + job.id, { method: "PATCH", body: change });
      tracks();
      showFrame();
    } catch (err) { toast(errorText(err), "error"); }
  }

  // Drawing a region on the frame: press, drag, release.
  const box = document.getElementById("frame-box");
  let start = null;
  function point(e) {
    const r = frame.getBoundingClientRect();
    return { x: Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)),
      y: Math.min(1, Math.max(0, (e.clientY - r.top) / r.height)), r };
  }
  box.addEventListener("mousedown", (e) => { e.preventDefault(); start = point(e); });
  box.addEventListener("mousemove", (e) => {
    if (!start) return;
    const p = point(e);
    const x0 = Math.min(start.x, p.x), y0 = Math.min(start.y, p.y);
    const x1 = Math.max(start.x, p.x), y1 = Math.max(start.y, p.y);
    drawn = [x0, y0, x1, y1].map((v) => Math.round(v * 10000) / 10000);
    Object.assign(drawBox.style, { left: x0 * p.r.width + "px", top: y0 * p.r.height + "px",
      width: (x1 - x0) * p.r.width + "px", height: (y1 - y0) * p.r.height + "px" });
    drawBox.hidden = false;
  });
  window.addEventListener("mouseup", () => {
    if (!start) return;
    start = null;
    if (!drawn) return;
    addForm.elements.box.value = drawn.join(", ");
    const at = Number(slider.value);
    addForm.elements.t0.value = at.toFixed(1);
    addForm.elements.t1.value = (at + 2).toFixed(1);
  });
  addForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const values = addForm.elements.box.value.split(",").map(Number);
    if (values.length !== 4 || values.some(Number.isNaN)) {
      toast(t("redaction.draw_first"), "error");
      return;
    }
    edit({ add: [{ t0: Number(addForm.elements.t0.value), t1: Number(addForm.elements.t1.value),
      box: values }] });
    drawBox.hidden = true;
    drawn = null;
    addForm.reset();
  });

  let pending = null;
  slider.addEventListener("input", () => {
    clearTimeout(pending);
    pending = setTimeout(showFrame, 250);
  });
  document.getElementById("apply").addEventListener("click", async () => {
    try {
      job = await api("/api/redactions/" + job.id + "/apply", { method: "POST" });
      follow();
    } catch (err) { toast(errorText(err), "error"); }
  });
  void fmtTime;
})();

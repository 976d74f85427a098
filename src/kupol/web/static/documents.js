/* The document inbox: protocols and resolutions drafted from a violation, an incident or by
 * hand, their PDF, signing with the officer's certificate, verification, and the workflow's
 * next steps with their history. Content is opened under the stated purpose (audited). */
(function () {
  "use strict";
  const { t, api, errorText, fmtTime, fill, pageData, toast, whyHeaders, whyQuery } = window.Kupol;
  const data = pageData();
  const body = document.querySelector("#documents-table tbody");
  const empty = document.getElementById("documents-empty");
  const detail = document.getElementById("document");
  const filter = document.getElementById("inbox-filter");
  const allowed = { sign: data.can_sign, cancel: data.can_sign, serve: data.can_write_documents,
    appeal: data.can_write_documents, pay: data.can_pay };
  let current = null;
  const purpose = window.KupolFaces.purpose(() => { if (current) show(current.id); });

  async function load() {
    const status = filter.elements.status.value;
    try {
      const inbox = await api("/api/documents" + (status ? "?status=" + status : ""));
      document.getElementById("documents-counts").textContent = Object.entries(inbox.counts)
        .map(([s, n]) => t("documents.status." + s) + ": " + n).join(" · ");
      empty.hidden = inbox.documents.length > 0;
      body.replaceChildren(...inbox.documents.map((d) => {
        const tr = document.createElement("tr");
        tr.className = "selectable";
        tr.tabIndex = 0;
        tr.dataset.documentId = String(d.id);
        [d.number, t("documents.kind." + d.kind), d.article, t("documents.status." + d.status),
          fmtTime(d.updated_at)].forEach((text) => {
          const td = document.createElement("td");
          td.textContent = text || t("common.none");
          tr.append(td);
        });
        tr.addEventListener("click", () => show(d.id));
        tr.addEventListener("keydown", (e) => { if (e.key === "Enter") show(d.id); });
        return tr;
      }));
    } catch (err) { toast(errorText(err), "error"); }
  }

  async function show(id) {
    current = { id };
    const why = purpose.get();
    if (!why) { toast(t("error.purpose_required"), "error"); return; }
    let d;
    try { d = await api("/api/documents/" + id, { headers: whyHeaders(why) }); } catch (err) {
      if (err.status === 428) purpose.refused(err); else toast(errorText(err), "error");
      return;
    }
    current = d;
    body.querySelectorAll("tr").forEach((tr) =>
      tr.classList.toggle("selected", tr.dataset.documentId === String(id)));
    detail.querySelector('[data-field="empty"]').hidden = true;
    detail.querySelector('[data-field="card"]').hidden = false;
    const c = d.content;
    const sig = d.signatures[0];
    fill(detail, {
      number: d.number,
      status: t("documents.status." + d.status),
      kind: t("documents.kind." + d.kind) + " · " + d.language.toUpperCase(),
      article: c.article + (c.part ? "." + c.part : "") + (c.title ? " — " + c.title : ""),
      person: c.person ? c.person.name : "",
      fine: c.fine_mrp ? t("documents.fine_text", { mrp: c.fine_mrp, tenge: c.fine_tenge || "—" }) : "",
      evidence: (c.evidence || []).map((e) => e.label).join("; "),
      signature: sig ? t("documents.signed_by", { user: sig.signer, when: fmtTime(sig.signed_at),
        algorithm: sig.algorithm, cert: sig.certificate_sha256.slice(0, 16) }) : "",
      verified: "",
    });
    document.getElementById("pdf").href = "/api/documents/" + d.id + "/pdf?" + whyQuery(why);
    document.getElementById("verify").hidden = d.signatures.length === 0;
    const buttons = document.getElementById("step-buttons");
    buttons.replaceChildren(...d.actions.filter((a) => allowed[a]).map((action) => {
      const wrap = document.createElement("div");
      wrap.className = "field field-button";
      const button = document.createElement("button");
      button.type = "button";
      button.className = action === "sign" ? "btn btn-primary" : "btn btn-ghost-dark";
      button.dataset.action = action;
      button.textContent = t("documents.action." + action);
      button.addEventListener("click", () => step(action));
      wrap.append(button);
      return wrap;
    }));
    document.getElementById("step-form").hidden = buttons.children.length === 0;
    document.getElementById("history").replaceChildren(...d.history.map((h) => {
      const li = document.createElement("li");
      li.className = "custody-entry";
      const seq = document.createElement("span");
      seq.className = "seq";
      seq.textContent = String(h.seq);
      const what = document.createElement("span");
      what.className = "what";
      what.textContent = t("documents.event", { action: t("documents.action." + h.action), user: h.actor,
        when: fmtTime(h.at), to: t("documents.status." + h.to) });
      const note = document.createElement("span");
      note.className = "detail";
      note.textContent = h.note || "";
      li.append(seq, what, note);
      return li;
    }));
  }

  async function step(action) {
    const error = document.getElementById("step-error");
    const note = document.getElementById("step-form").elements.note.value.trim();
    try {
      const path = "/api/documents/" + current.id + "/" + action;
      await api(path, { method: "POST", body: action === "sign" ? {} : { note: note || null } });
      error.hidden = true;
      document.getElementById("step-form").reset();
      toast(t("documents.done." + (action === "sign" ? "sign" : "step")), "ok");
      await load();
      show(current.id);
    } catch (err) {
      error.textContent = err.problem && err.problem.code === "no_certificate"
        ? t("documents.no_certificate") : errorText(err);
      error.hidden = false;
    }
  }

  document.getElementById("verify").addEventListener("click", async () => {
    try {
      const v = await api("/api/documents/" + current.id + "/verify");
      fill(detail, { verified: v.ok ? t("documents.valid", { issuer: v.signatures[0].issuer })
        : t("documents.invalid", { problems: v.problems.join("; ") }) });
    } catch (err) { toast(errorText(err), "error"); }
  });

  const draft = document.getElementById("draft-form");
  if (draft) {
    draft.addEventListener("submit", async (e) => {
      e.preventDefault();
      const f = draft.elements;
      const error = document.getElementById("draft-error");
      try {
        let made;
        if (f.violation_id.value) {
          made = await api("/api/documents/from-violation", { method: "POST",
            body: { violation_id: Number(f.violation_id.value), language: f.language.value } });
        } else {
          const fields = { article: f.article.value.trim() };
          if (f.part.value.trim()) fields.part = f.part.value.trim();
          if (f.person.value.trim()) fields.person = { name: f.person.value.trim() };
          if (f.fine_mrp.value) fields.fine_mrp = Number(f.fine_mrp.value);
          if (f.facts.value.trim()) fields.facts = f.facts.value.trim();
          made = await api("/api/documents", { method: "POST", body: {
            kind: f.kind.value, language: f.language.value, fields,
            incident_id: f.incident_id.value ? Number(f.incident_id.value) : null } });
        }
        error.hidden = true;
        draft.reset();
        toast(t("documents.drafted", { number: made.number }), "ok");
        await load();
        if (purpose.get()) show(made.id);
      } catch (err) {
        error.textContent = errorText(err);
        error.hidden = false;
      }
    });
  }
  filter.addEventListener("change", load);
  load();
})();

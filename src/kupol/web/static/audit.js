/* Audit log: filtered reading (itself audited by the API) and the hash-chain check. */
(function () {
  "use strict";
  const { t, api, errorText, fmtTime } = window.Kupol;
  const PAGE = 50;
  const form = document.getElementById("audit-filters");
  const body = document.querySelector("#audit-table tbody");
  const more = document.getElementById("audit-more");
  const error = document.getElementById("audit-error");
  const verifyButton = document.getElementById("verify");
  const verdict = document.getElementById("verify-result");
  let oldest = null;

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined || text === "" ? t("common.none") : text;
    return td;
  }

  function row(entry) {
    const tr = document.createElement("tr");
    tr.dataset.seq = String(entry.seq);
    tr.title = JSON.stringify(entry.details) + "\n" + entry.hash;
    const seq = cell(String(entry.seq));
    seq.className = "num";
    const at = document.createElement("td");
    const stamp = document.createElement("time");
    stamp.className = "ts";
    stamp.dateTime = entry.at;
    stamp.textContent = fmtTime(entry.at);
    at.append(stamp);
    const resource = entry.resource_type + (entry.resource_id ? " " + entry.resource_id : "");
    tr.append(seq, at, cell(entry.actor), cell(entry.roles), cell(entry.action), cell(resource),
      cell(entry.purpose), cell(entry.case_number), cell(entry.client));
    return tr;
  }

  async function load(append) {
    const query = new URLSearchParams({ limit: String(PAGE) });
    new FormData(form).forEach((value, name) => {
      if (String(value).trim()) query.set(name, String(value).trim());
    });
    if (append && oldest !== null) query.set("before_seq", String(oldest));
    error.hidden = true;
    try {
      const entries = await api("/api/audit?" + query.toString());
      const rows = entries.map(row);
      if (append) body.append(...rows); else body.replaceChildren(...rows);
      if (entries.length) oldest = entries[entries.length - 1].seq;
      more.hidden = entries.length < PAGE;
      document.getElementById("audit-empty").hidden = body.children.length > 0;
    } catch (err) {
      error.textContent = errorText(err);
      error.hidden = false;
    }
  }

  async function verify() {
    verifyButton.disabled = true;
    verdict.hidden = false;
    verdict.className = "banner";
    verdict.textContent = t("audit.verifying");
    try {
      const report = await api("/api/audit/verify", { method: "POST" });
      verdict.className = "banner " + (report.ok ? "banner-ok" : "banner-bad");
      verdict.dataset.ok = String(report.ok);
      verdict.textContent = report.ok
        ? t("audit.verify_ok", { checked: report.checked })
        : t("audit.verify_bad", { seq: report.first_bad_seq, reason: report.reason });
    } catch (err) {
      verdict.className = "banner banner-bad";
      verdict.textContent = errorText(err);
    } finally {
      verifyButton.disabled = false;
    }
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); load(false); });
  form.addEventListener("reset", () => setTimeout(() => load(false), 0));
  more.addEventListener("click", () => load(true));
  verifyButton.addEventListener("click", verify);
  load(false);
})();

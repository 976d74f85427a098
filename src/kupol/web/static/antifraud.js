/* Anti-fraud: the live screening dashboard (no personal data), and — each under the stated
 * purpose, audited on the server — a number's look-up, organised groups drawn as graphs of
 * numbers, SIMs, handsets and cells (a group's case file put in the evidence vault), voice
 * checks of recordings, reports to the Anti-Fraud Centre (made, listed with their two-working-day
 * checks, answered, exported in the exchange format), and the transfer holds queue. */
(function () {
  "use strict";
  const { t, api, errorText, fmtTime, pageData, whyHeaders } = window.Kupol;
  const data = pageData();
  const SVG_NS = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);

  function fmt(n) {
    return n === null || n === undefined ? "—" : Number(n).toLocaleString();
  }
  function cells(tr, values) {
    values.forEach((v) => {
      const td = document.createElement("td");
      if (typeof v === "number") { td.className = "num"; td.textContent = fmt(v); }
      else td.textContent = v === null || v === undefined ? "—" : String(v);
      tr.append(td);
    });
    return tr;
  }
  function reasonText(code) {
    const key = "antifraud.reason." + code;
    const text = t(key);
    return text === key ? code : text;
  }
  function show(node, on) { node.hidden = !on; }
  function fail(where, err) {
    where.textContent = errorText(err);
    show(where, true);
  }

  /* The dashboard: counts over the chosen window, refreshed every 5 seconds. */
  async function refresh() {
    try {
      const s = await api("/api/antifraud/calls/summary?minutes=" + $("af-minutes").value);
      $("af-calls").textContent = fmt(s.calls);
      $("af-rate").textContent = fmt(s.calls_per_s_last_minute);
      ["allow", "warn", "block"].forEach((v) => { $("af-" + v).textContent = fmt(s.verdicts[v]); });
      const body = $("af-reasons").tBodies[0];
      body.replaceChildren(...s.top_reasons.map((r) =>
        cells(document.createElement("tr"), [reasonText(r.code), r.calls])));
      show($("af-quiet"), s.calls === 0);
      show($("af-error"), false);
    } catch (err) {
      fail($("af-error"), err);
    }
  }
  $("af-minutes").addEventListener("change", refresh);
  refresh();
  setInterval(refresh, 5000);

  function why() {
    const purpose = $("af-purpose").value.trim();
    if (purpose.length < 5) {
      $("af-personal-error").textContent = t("error.purpose_required");
      show($("af-personal-error"), true);
      $("af-purpose").focus();
      return null;
    }
    show($("af-personal-error"), false);
    return { purpose };
  }

  /* A number: where it belongs, its list entries, its recent calls. */
  $("af-lookup").addEventListener("submit", async (event) => {
    event.preventDefault();
    const w = why();
    if (!w) return;
    const number = $("af-number").value.trim();
    if (!number) return;
    try {
      const n = await api("/api/antifraud/numbers/" + encodeURIComponent(number),
        { headers: whyHeaders(w) });
      $("af-number-title").textContent = n.number;
      $("af-number-place").textContent = [t("antifraud.kind." + n.kind), n.operator, n.region]
        .filter(Boolean).join(" · ");
      $("af-number-lists").replaceChildren(...n.lists.map((e) => {
        const li = document.createElement("li");
        // whether screening acts on it now, and who listed it when
        const state = !e.active ? t("antifraud.inactive")
          : !e.in_force ? t("antifraud.expired")
          : e.expires_at ? t("antifraud.list_until", { time: fmtTime(e.expires_at) }) : "";
        li.textContent = t("antifraud.list." + e.list) + ": " + e.source +
          (state ? " (" + state + ")" : "") + " — " +
          t("antifraud.listed_by", { user: e.added_by, time: fmtTime(e.added_at) });
        return li;
      }));
      $("af-number-calls").tBodies[0].replaceChildren(...n.calls.map((c) =>
        cells(document.createElement("tr"), [fmtTime(c.at), c.caller, c.called,
          t("antifraud.verdict." + c.verdict), c.reasons.map(reasonText).join(", ")])));
      show($("af-number-result"), true);
    } catch (err) {
      fail($("af-personal-error"), err);
    }
  });

  /* Groups: a table, and the chosen group's graph. */
  let chosen = null;
  const RINGS = { cell: 0, account: 60, handset: 95, sim: 150, number: 195 };
  function drawGroup(group) {
    const svg = $("af-graph");
    const nodes = new Map();
    const byKind = { number: group.numbers, sim: group.sims, handset: group.handsets,
      cell: group.cells, account: group.accounts || [] };
    /* Numbers around the outer ring; each SIM, handset, cell and account (the money trail:
     * victims of the group's numbers paid it) at the mean angle of the numbers it is tied to
     * (through the SIM for handsets), so ties point outwards. */
    const angles = new Map();
    group.numbers.forEach((n, i) =>
      angles.set("number:" + n, (2 * Math.PI * i) / Math.max(1, group.numbers.length) - Math.PI / 2));
    const neighbours = new Map();
    group.edges.forEach(([a, b]) => {
      if (!neighbours.has(a)) neighbours.set(a, []);
      if (!neighbours.has(b)) neighbours.set(b, []);
      neighbours.get(a).push(b);
      neighbours.get(b).push(a);
    });
    /* The mean direction of the tied nodes already placed, or null where they pull every
     * way (a handset shared by SIMs all round). */
    function meanAngle(key) {
      const around = (neighbours.get(key) || []).filter((k) => angles.has(k)).map((k) => angles.get(k));
      if (!around.length) return null;
      const x = around.reduce((sum, a) => sum + Math.cos(a), 0);
      const y = around.reduce((sum, a) => sum + Math.sin(a), 0);
      return Math.hypot(x, y) < 0.3 * around.length ? null : Math.atan2(y, x);
    }
    ["sim", "handset", "cell", "account"].forEach((kind) => {
      const values = byKind[kind];
      values.forEach((value, i) => {
        const key = kind + ":" + value;
        const angle = meanAngle(key);
        angles.set(key, angle === null ? (2 * Math.PI * (i + 0.5)) / values.length : angle);
      });
    });
    Object.entries(byKind).forEach(([kind, values]) => {
      values.forEach((value) => {
        const key = kind + ":" + value;
        const angle = angles.get(key);
        const r = kind === "cell" ? (values.length > 1 ? 30 : 0) : RINGS[kind];
        nodes.set(key, { kind, value, x: 320 + r * Math.cos(angle), y: 210 + r * Math.sin(angle) });
      });
    });
    const parts = [];
    group.edges.forEach(([a, b]) => {
      const p = nodes.get(a);
      const q = nodes.get(b);
      if (!p || !q) return;
      const line = document.createElementNS(SVG_NS, "line");
      line.setAttribute("x1", p.x); line.setAttribute("y1", p.y);
      line.setAttribute("x2", q.x); line.setAttribute("y2", q.y);
      parts.push(line);
    });
    nodes.forEach((n) => {
      const dot = document.createElementNS(SVG_NS, "circle");
      dot.setAttribute("cx", n.x); dot.setAttribute("cy", n.y);
      dot.setAttribute("r", n.kind === "cell" ? 9 : n.kind === "number" ? 6 : 4);
      dot.setAttribute("class", "node-" + n.kind);
      const title = document.createElementNS(SVG_NS, "title");
      title.textContent = t("antifraud.node." + n.kind) + " " + n.value;
      dot.append(title);
      parts.push(dot);
      if (n.kind === "number" || n.kind === "cell" || n.kind === "account") {
        const label = document.createElementNS(SVG_NS, "text");
        label.setAttribute("x", n.x + 8); label.setAttribute("y", n.y + 3);
        label.textContent = n.value;
        parts.push(label);
      }
    });
    svg.replaceChildren(...parts);
    /* The money trail: what the group's victims were asked to pay, and what was stopped. */
    const sums = (pick) => Object.entries(group.amounts || {}).map(([currency, by]) =>
      fmt(Object.entries(by).filter(([status]) => pick(status))
        .reduce((sum, [, v]) => sum + v, 0)) + " " + currency).join(", ");
    let money = "";
    if ((group.accounts || []).length) {
      money = " " + t("antifraud.graph_money", { accounts: group.accounts.length,
        transfers: new Set(group.payments.map((p) => p.check_id)).size,
        asked: sums(() => true), stopped: sums((status) => status === "cancelled") });
      if (group.linked.length) {
        money += " " + t("antifraud.graph_linked", { groups: group.linked.map((i) => "#" + i).join(", ") });
      }
    }
    $("af-graph-caption").textContent = t("antifraud.graph_caption", {
      numbers: group.numbers.length, sims: group.sims.length, handsets: group.handsets.length,
      cells: group.cells.length, calls: group.calls }) + money;
    show($("af-graph-figure"), true);
    chosen = group;
    if ($("af-export")) {
      show($("af-export"), true);
      show($("af-export-result"), false);
    }
  }

  /* The chosen group's case file, into the evidence vault under a case number. */
  if ($("af-export")) {
    $("af-export").addEventListener("submit", async (event) => {
      event.preventDefault();
      const w = why();
      if (!w || !chosen) return;
      try {
        const r = await api("/api/antifraud/groups/export", {
          method: "POST", headers: whyHeaders(w),
          body: { number: chosen.numbers[0], case_number: $("af-case").value.trim(),
            hours: Number($("af-hours").value) } });
        $("af-export-result").textContent = t("antifraud.exported", { item: r.evidence_item,
          case: r.case_number, numbers: r.numbers, calls: r.calls, recordings: r.recordings });
        show($("af-export-result"), true);
      } catch (err) {
        fail($("af-personal-error"), err);
      }
    });
  }

  /* Voice checks: a recording uploaded, its synthetic score and the similar voices. */
  if ($("af-voice")) {
    $("af-voice").addEventListener("submit", async (event) => {
      event.preventDefault();
      const w = why();
      if (!w) return;
      const form = new FormData($("af-voice"));
      if (!String(form.get("number") || "").trim()) form.delete("number");
      try {
        const r = await api("/api/antifraud/voices", { method: "POST", headers: whyHeaders(w),
          body: form });
        const p = r.recording.synthetic;
        $("af-voice-synthetic").textContent = p === null ? t("antifraud.synthetic_unknown")
          : t(r.synthetic ? "antifraud.synthetic_yes" : "antifraud.synthetic_no",
            { p: p.toFixed(2) });
        show($("af-voice-duplicate"), r.duplicate);
        $("af-voice-similar-title").textContent = t("antifraud.similar_voices",
          { threshold: r.threshold });
        $("af-voice-matches").tBodies[0].replaceChildren(...r.matches.map((m) =>
          cells(document.createElement("tr"), [m.similarity.toFixed(2),
            t("antifraud.source." + m.recording.source), m.recording.reference,
            m.recording.number, fmtTime(m.recording.submitted_at)])));
        show($("af-voice-none"), r.matches.length === 0);
        show($("af-voice-result"), true);
      } catch (err) {
        fail($("af-personal-error"), err);
      }
    });
  }

  $("af-groups-show").addEventListener("click", async () => {
    const w = why();
    if (!w) return;
    try {
      const groups = await api("/api/antifraud/groups?hours=" + encodeURIComponent($("af-hours").value),
        { headers: whyHeaders(w) });
      const body = $("af-groups").tBodies[0];
      body.replaceChildren(...groups.map((g) => {
        const tr = cells(document.createElement("tr"), [g.id, g.numbers.length, g.sims.length,
          g.handsets.length, g.cells.join(", "), (g.accounts || []).length, g.calls, g.blocked,
          Object.keys(g.reasons).slice(0, 3).map(reasonText).join(", ")]);
        tr.className = "clickable";
        tr.tabIndex = 0;
        tr.addEventListener("click", () => {
          body.querySelectorAll("tr").forEach((r) => r.classList.remove("selected"));
          tr.classList.add("selected");
          drawGroup(g);
        });
        return tr;
      }));
      show($("af-groups-empty"), groups.length === 0);
      if (groups.length) body.rows[0].click();
      else show($("af-graph-figure"), false);
    } catch (err) {
      fail($("af-personal-error"), err);
    }
  });

  /* Reports to the Anti-Fraud Centre: made with the evidence the server gathers, listed with
   * their due times (two working days), answered once, exported in the exchange format. */
  if (data.can_report) {
    let selected = null;
    const reportResult = $("af-report-result");
    const lookupReport = $("af-number-report");
    if (lookupReport) {
      lookupReport.addEventListener("click", () => {
        $("af-report-kind").value = "number";
        $("af-report-subject").value = $("af-number-title").textContent;
        $("af-report-summary").focus();
      });
    }
    function download(name, value) {
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([JSON.stringify(value, null, 2)],
        { type: "application/json" }));
      link.download = name;
      document.body.append(link);
      link.click();
      link.remove();
    }
    function showReport(r) {
      selected = r;
      $("af-report-detail-title").textContent = t("antifraud.report_title",
        { id: r.id, subject: r.subject, by: r.reported_by });
      $("af-report-evidence").textContent = JSON.stringify(r.evidence, null, 2);
      show($("af-check"), r.status === "submitted");
      show($("af-report-detail"), true);
    }
    /* Counts only (no subject): shown without a purpose, refreshed with the list. */
    async function countReports() {
      try {
        const c = await api("/api/antifraud/reports/summary");
        $("af-reports-waiting").textContent = fmt(c.submitted);
        $("af-reports-late").textContent = fmt(c.overdue);
        $("af-reports-confirmed").textContent = fmt(c.confirmed);
        $("af-reports-late").classList.toggle("bad", c.overdue > 0);
      } catch (err) {
        fail($("af-personal-error"), err);
      }
    }
    countReports();
    async function listReports() {
      const w = why();
      if (!w) return;
      const query = new URLSearchParams();
      if ($("af-reports-status").value) query.set("status", $("af-reports-status").value);
      if ($("af-reports-overdue").checked) query.set("overdue", "true");
      try {
        const rows = await api("/api/antifraud/reports?" + query, { headers: whyHeaders(w) });
        const body = $("af-reports").tBodies[0];
        body.replaceChildren(...rows.map((r) => {
          const status = r.status === "submitted"
            ? (r.overdue ? t("antifraud.overdue") : t("antifraud.report_status.submitted"))
            : t("antifraud.report_status." + r.status) + " · " + (r.checked_by || "");
          const tr = cells(document.createElement("tr"), [fmtTime(r.reported_at),
            t("antifraud.subject_kind." + r.kind) + " " + r.subject,
            t("antifraud.category." + r.category), r.summary, fmtTime(r.due_by), status]);
          tr.cells[4].classList.add("due");
          tr.dataset.report = String(r.id);
          tr.classList.add("clickable");
          if (r.overdue) tr.classList.add("overdue");
          tr.addEventListener("click", () => {
            body.querySelectorAll("tr").forEach((x) => x.classList.remove("selected"));
            tr.classList.add("selected");
            showReport(r);
          });
          const td = document.createElement("td");
          const button = document.createElement("button");
          button.type = "button";
          button.className = "btn btn-small";
          button.textContent = t("antifraud.exchange_file");
          button.addEventListener("click", async (event) => {
            event.stopPropagation();
            const again = why();
            if (!again) return;
            try {
              const exchange = await api("/api/antifraud/reports/" + r.id + "/exchange.json",
                { headers: whyHeaders(again) });
              download("afc-report-" + exchange.id + ".json", exchange);
            } catch (err) {
              fail($("af-personal-error"), err);
            }
          });
          td.append(button);
          tr.append(td);
          return tr;
        }));
        show($("af-reports-empty"), rows.length === 0);
        countReports();
        if (selected) {
          const again = rows.find((r) => r.id === selected.id);
          if (again) showReport(again); else show($("af-report-detail"), false);
        }
      } catch (err) {
        fail($("af-personal-error"), err);
      }
    }
    $("af-reports-show").addEventListener("click", listReports);
    $("af-report").addEventListener("submit", async (event) => {
      event.preventDefault();
      const w = why();
      if (!w) return;
      try {
        const r = await api("/api/antifraud/reports", { method: "POST", headers: whyHeaders(w),
          body: { kind: $("af-report-kind").value, subject: $("af-report-subject").value.trim(),
            category: $("af-report-category").value,
            summary: $("af-report-summary").value.trim() } });
        reportResult.textContent = t("antifraud.reported", { id: r.id, subject: r.subject,
          due: fmtTime(r.due_by) });
        show(reportResult, true);
        $("af-report").reset();
        selected = r;
        await listReports();
      } catch (err) {
        fail($("af-personal-error"), err);
      }
    });
    $("af-check").addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!selected) return;
      try {
        await api("/api/antifraud/reports/" + selected.id + "/check", { method: "POST",
          body: { result: $("af-check-result").value, checked_by: $("af-check-by").value.trim(),
            note: $("af-check-note").value.trim() } });
        $("af-check").reset();
        await listReports();
      } catch (err) {
        fail($("af-personal-error"), err);
      }
    });
  }

  /* Transfer holds: totals and the queue. */
  if (data.can_see_holds) {
    (async () => {
      try {
        const s = await api("/api/antifraud/transfers/summary");
        $("af-checks").textContent = fmt(s.checks);
        $("af-held").textContent = fmt(s.counts.held || 0);
        const kzt = s.amounts.KZT || {};
        $("af-protected").textContent = fmt(kzt.protected || 0) + " ₸";
      } catch (err) {
        fail($("af-personal-error"), err);
      }
    })();
    $("af-holds-show").addEventListener("click", async () => {
      const w = why();
      if (!w) return;
      try {
        const rows = await api("/api/antifraud/transfers?status=" + $("af-hold-status").value,
          { headers: whyHeaders(w) });
        $("af-holds").tBodies[0].replaceChildren(...rows.map((h) =>
          cells(document.createElement("tr"), [fmtTime(h.asked_at), h.bank, h.amount, h.payer,
            h.payee, h.reasons.map(reasonText).join(", ") + (h.callers.length
              ? " (" + t("antifraud.rung_by", { numbers: h.callers.join(", ") }) + ")" : ""),
            h.hold_until ? fmtTime(h.hold_until) : "—"])));
      } catch (err) {
        fail($("af-personal-error"), err);
      }
    });
  }
})();

/* Hotlists: the lists with their counts; the listed plates once a purpose is stated (each read
 * audited); for those who manage them, new lists, CSV imports with the refused rows by line,
 * single plates added and removed with a reason, lists switched off or made fuzzy. */
(function () {
  "use strict";
  const { t, api, errorText, toast, fmtTime, fill, pageData, whyHeaders } = window.Kupol;
  const { purpose } = window.KupolFaces;
  const data = pageData();
  const PAGE = 100;
  const lists = new Map(data.hotlists.map((h) => [h.id, h]));
  const listBody = document.querySelector("#hotlists-table tbody");
  const detail = document.getElementById("hotlist-detail");
  const card = detail.querySelector('[data-field="card"]');
  const entriesTable = document.getElementById("entries-table");
  const entriesBody = entriesTable.querySelector("tbody");
  const entriesError = document.getElementById("entries-error");
  const filter = document.getElementById("entries-filter");
  const more = document.getElementById("more-entries");
  const report = document.getElementById("import-report");
  let current = null;  // the open list's id
  let loaded = 0;
  let generation = 0;  // a newer load makes an older one's answer stale
  const why = purpose(() => loadEntries(true));

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined || text === "" ? t("common.none") : text;
    if (className) td.className = className;
    return td;
  }

  function state(list) {
    if (!list.active) return t("hotlists.inactive");
    return list.fuzzy ? t("hotlists.active_fuzzy") : t("hotlists.active_exact");
  }

  function drawLists() {
    const rows = Array.from(lists.values()).sort((a, b) => a.name.localeCompare(b.name));
    listBody.replaceChildren(...rows.map((h) => {
      const row = document.createElement("tr");
      row.dataset.hotlistId = String(h.id);
      row.className = "selectable" + (h.id === current ? " selected" : "")
        + (h.active ? "" : " inactive");
      row.tabIndex = 0;
      if (h.id === current) row.setAttribute("aria-current", "true");
      row.append(cell(h.name), cell(t("plates.kind." + h.kind)), cell(String(h.entries), "num"),
        cell(state(h)));
      return row;
    }));
    document.getElementById("no-hotlists").hidden = rows.length > 0;
    document.getElementById("hotlists-table").hidden = rows.length === 0;
  }

  async function refreshLists() {
    try {
      (await api("/api/plates/hotlists")).forEach((h) => lists.set(h.id, h));
      drawLists();
      if (current !== null) describe(lists.get(current));
    } catch (err) {
      toast(errorText(err), "error");
    }
  }

  function describe(list) {
    detail.querySelector('[data-field="empty"]').hidden = true;
    card.hidden = false;
    card.dataset.hotlistId = String(list.id);
    card.dataset.active = String(list.active);
    fill(card, {
      name: list.name, kind: t("plates.kind." + list.kind),
      summary: t("hotlists.summary", { owner: list.owner, state: state(list) }),
    });
    const active = document.getElementById("toggle-active");
    if (active) active.textContent = t(list.active ? "hotlists.deactivate" : "hotlists.activate");
    const fuzzy = document.getElementById("toggle-fuzzy");
    if (fuzzy) fuzzy.textContent = t(list.fuzzy ? "hotlists.make_exact" : "hotlists.make_fuzzy");
  }

  function open(id) {
    if (!lists.has(id)) return;
    current = id;
    history.replaceState(null, "", "#hotlist-" + id);
    drawLists();
    describe(lists.get(id));
    if (report) report.hidden = true;
    filter.reset();
    loadEntries(true);
  }

  // Entries --------------------------------------------------------------------------

  function entryRow(entry) {
    const row = document.createElement("tr");
    row.dataset.entryId = String(entry.id);
    const expired = entry.expires_at && Date.parse(entry.expires_at) <= Date.now();
    if (expired) row.className = "expired";
    row.append(cell(entry.plate, "plate-text"), cell(entry.reason), cell(entry.reference),
      cell(entry.expires_at ? fmtTime(entry.expires_at) + (expired ? " · " + t("hotlists.expired") : "")
        : null),
      cell(t("hotlists.added_by", { user: entry.added_by, time: fmtTime(entry.created_at) })));
    if (data.can_manage) {
      const td = document.createElement("td");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-danger btn-small";
      button.dataset.action = "remove";
      button.textContent = t("hotlists.remove");
      button.addEventListener("click", () => askToRemove(entry));
      td.append(button);
      row.append(td);
    }
    return row;
  }

  async function loadEntries(reset) {
    const stated = why.get();
    document.getElementById("entries-locked").hidden = Boolean(stated);
    filter.hidden = !stated;
    if (current === null || !stated) return;
    if (reset) {
      loaded = 0;
      generation += 1;
    }
    const mine = generation;
    const id = current;
    const query = new URLSearchParams({ limit: String(PAGE), offset: String(loaded) });
    const plate = String(new FormData(filter).get("plate") || "").trim();
    if (plate) query.set("plate", plate);
    entriesError.hidden = true;
    try {
      const page = await api("/api/plates/hotlists/" + id + "/entries?" + query.toString(),
        { headers: whyHeaders(stated) });
      if (id !== current || mine !== generation) return;
      const rows = page.entries.map(entryRow);
      if (reset) entriesBody.replaceChildren(...rows);
      else entriesBody.append(...rows);
      loaded += page.entries.length;
      entriesTable.hidden = loaded === 0;
      document.getElementById("no-entries").hidden = loaded > 0;
      more.hidden = loaded >= page.total;
      fill(filter, { count: t("hotlists.count", { shown: loaded, total: page.total }) });
    } catch (err) {
      if (err.status === 428) why.refused(err);
      entriesError.textContent = errorText(err);
      entriesError.hidden = false;
    }
  }

  // Import ---------------------------------------------------------------------------

  // Why the server refused a CSV row (kupol.plates.hotlists), in the user's language; a
  // reason not listed here is shown as the server wrote it.
  const REFUSALS = [
    [/^(['"])(.*)\1 is not a plate$/, (m) => t("hotlists.refused_plate", { value: m[2] })],
    [/^a reason is required$/, () => t("hotlists.refused_reason")],
    [/^expires_at (['"])(.*)\1 is not a date$/, (m) => t("hotlists.refused_date", { value: m[2] })],
    [/^expires_at needs its UTC offset$/, () => t("hotlists.refused_offset")],
    [/^(\S+) is on line (\d+) already$/,
      (m) => t("hotlists.refused_repeat", { plate: m[1], line: m[2] })],
  ];

  function refusal(reason) {
    for (const [pattern, say] of REFUSALS) {
      const match = pattern.exec(reason);
      if (match) return say(match);
    }
    return reason;
  }

  function showReport(result) {
    const summary = t("hotlists.imported", {
      added: result.added, updated: result.updated, rejected: result.rejected.length });
    fill(report, { summary: result.removed
      ? summary + " " + t("hotlists.imported_removed", { removed: result.removed }) : summary });
    report.querySelector('[data-field="rejected"]').replaceChildren(...result.rejected.map((r) => {
      const row = document.createElement("tr");
      const why = cell(refusal(r.reason));
      why.title = r.reason;
      row.append(cell(String(r.line), "num"), why);
      return row;
    }));
    report.querySelector('[data-field="rejected-table"]').hidden = result.rejected.length === 0;
    report.classList.toggle("has-rejected", result.rejected.length > 0);
    report.hidden = false;
  }

  async function importFile(input) {
    const file = input.files && input.files[0];
    if (!file || current === null) return;
    const body = new FormData();
    body.append("file", file);
    try {
      // "replace": the file is the whole list (a registry's export); the server takes off
      // the plates it lacks, never when a row was refused
      const replace = document.getElementById("import-replace");
      const url = "/api/plates/hotlists/" + current + "/import" +
        (replace && replace.checked ? "?replace=true" : "");
      showReport(await api(url, { method: "POST", body }));
      await refreshLists();
      await loadEntries(true);
    } catch (err) {
      report.hidden = false;
      report.classList.add("has-rejected");
      fill(report, { summary: t("hotlists.import_refused", { file: file.name, reason: errorText(err) }) });
      report.querySelector('[data-field="rejected-table"]').hidden = true;
    } finally {
      input.value = "";
    }
  }

  // Changes (managers) ---------------------------------------------------------------

  /** Wire a dialog's form: `submit(values, showError)` returns a promise; cancel closes. */
  function dialogForm(dialog, submit) {
    if (!dialog) return () => {};
    const form = dialog.querySelector("form");
    const error = dialog.querySelector('[data-field="error"]');
    const showError = (text) => { error.textContent = text; error.hidden = !text; };
    dialog.querySelector('[data-action="cancel"]').addEventListener("click", () => dialog.close());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      try {
        if (await submit(new FormData(form), showError)) dialog.close();
      } catch (err) {
        showError(errorText(err));
      } finally {
        button.disabled = false;
      }
    });
    return (title) => {
      form.reset();
      showError("");
      if (title) fill(dialog, { title });
      dialog.showModal();
    };
  }

  function text(values, name) { return String(values.get(name) || "").trim(); }

  const askNewList = dialogForm(document.getElementById("hotlist-dialog"),
    async (values, showError) => {
      const body = { name: text(values, "name"), kind: text(values, "kind"),
        fuzzy: values.get("fuzzy") === "1" };
      if (body.name.length < 2) { showError(t("hotlists.name_too_short")); return false; }
      const created = await api("/api/plates/hotlists", { method: "POST", body });
      toast(t("hotlists.created_toast", { name: body.name }), "ok");
      await refreshLists();
      open(created.id);
      return true;
    });

  const askNewEntry = dialogForm(document.getElementById("entry-dialog"),
    async (values, showError) => {
      const body = { plate: text(values, "plate"), reason: text(values, "reason"),
        reference: text(values, "reference") || null };
      if (body.plate.replace(/[\s-]/g, "").length < 2) {
        showError(t("plateroute.plate_required"));
        return false;
      }
      if (body.reason.length < 3) { showError(t("hotlists.reason_too_short")); return false; }
      const expires = text(values, "expires_at");
      if (expires) body.expires_at = new Date(expires).toISOString();
      const added = await api("/api/plates/hotlists/" + current + "/entries",
        { method: "POST", body });
      toast(t("hotlists.added_toast", { plate: added.plate }), "ok");
      await refreshLists();
      await loadEntries(true);
      return true;
    });

  let removing = null;
  const askRemoval = dialogForm(document.getElementById("remove-entry-dialog"),
    async (values, showError) => {
      const reason = text(values, "reason");
      if (reason.length < 5) { showError(t("hotlists.remove_reason_short")); return false; }
      await api("/api/plates/hotlists/" + current + "/entries/" + removing.id + "?reason=" +
        encodeURIComponent(reason), { method: "DELETE" });
      toast(t("hotlists.removed_toast", { plate: removing.plate }), "ok");
      await refreshLists();
      await loadEntries(true);
      return true;
    });

  function askToRemove(entry) {
    removing = entry;
    askRemoval(t("hotlists.remove_title", { plate: entry.plate }));
  }

  async function change(body) {
    try {
      const changed = await api("/api/plates/hotlists/" + current, { method: "PATCH", body });
      lists.set(changed.id, changed);
      drawLists();
      describe(changed);
    } catch (err) {
      toast(errorText(err), "error");
    }
  }

  // Wiring -----------------------------------------------------------------------------

  listBody.addEventListener("click", (event) => {
    const row = event.target.closest("tr[data-hotlist-id]");
    if (row) open(Number(row.dataset.hotlistId));
  });
  listBody.addEventListener("keydown", (event) => {
    const row = event.target.closest("tr[data-hotlist-id]");
    if (row && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      open(Number(row.dataset.hotlistId));
    }
  });
  filter.addEventListener("submit", (event) => {
    event.preventDefault();
    loadEntries(true);
  });
  more.addEventListener("click", () => loadEntries(false));
  const newList = document.getElementById("new-hotlist");
  if (newList) newList.addEventListener("click", () => askNewList());
  const addEntry = document.getElementById("add-entry");
  if (addEntry) {
    addEntry.addEventListener("click", () => askNewEntry(
      t("hotlists.add_title", { list: lists.get(current).name })));
  }
  const importInput = document.getElementById("import-file");
  if (importInput) importInput.addEventListener("change", () => importFile(importInput));
  const toggleActive = document.getElementById("toggle-active");
  if (toggleActive) {
    toggleActive.addEventListener("click", () => change({ active: !lists.get(current).active }));
  }
  const toggleFuzzy = document.getElementById("toggle-fuzzy");
  if (toggleFuzzy) {
    toggleFuzzy.addEventListener("click", () => change({ fuzzy: !lists.get(current).fuzzy }));
  }

  drawLists();
  const wanted = /^#hotlist-(\d+)$/.exec(location.hash);
  const sorted = Array.from(lists.values()).sort((a, b) => a.name.localeCompare(b.name));
  if (wanted && lists.has(Number(wanted[1]))) open(Number(wanted[1]));
  else if (sorted.length) open(sorted[0].id);
})();

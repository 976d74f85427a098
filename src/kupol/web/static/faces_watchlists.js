/* Watchlists: the lists and their threshold reports; persons and enrolled photos once a purpose
 * is stated (each read audited); for investigators, new lists, persons, photos and removals. */
(function () {
  "use strict";
  const { t, api, errorText, toast, fmtTime, fill, pageData, whyHeaders, whyQuery } = window.Kupol;
  const { purpose, refusal } = window.KupolFaces;
  const data = pageData();
  const lists = new Map(data.watchlists.map((w) => [w.id, w]));
  const listBody = document.querySelector("#lists-table tbody");
  const detail = document.getElementById("list-detail");
  const card = detail.querySelector('[data-field="card"]');
  const persons = document.getElementById("persons");
  const personTpl = document.getElementById("person-tpl");
  const personsError = document.getElementById("persons-error");
  const photoDialog = document.getElementById("photo-dialog");
  const STATES = {  // a listed person is matched; an expired or removed one no longer is
    listed: "watchlists.person_listed",
    expired: "watchlists.person_expired",
    removed: "watchlists.person_removed",
  };
  let current = null;  // the open list's id
  const why = purpose(() => loadPersons());

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined || text === "" ? t("common.none") : text;
    if (className) td.className = className;
    return td;
  }

  function drawLists() {
    const rows = Array.from(lists.values()).sort((a, b) => a.name.localeCompare(b.name));
    listBody.replaceChildren(...rows.map((w) => {
      const row = document.createElement("tr");
      row.dataset.watchlistId = String(w.id);
      row.className = "selectable" + (w.id === current ? " selected" : "");
      row.tabIndex = 0;
      if (w.id === current) row.setAttribute("aria-current", "true");
      row.append(cell(w.name), cell(t("watchlists.kind." + w.kind)),
        cell(w.threshold.toFixed(2), "num"), cell(String(w.persons), "num"),
        cell(t(w.active ? "watchlists.active" : "watchlists.inactive")));
      return row;
    }));
    document.getElementById("no-lists").hidden = rows.length > 0;
    document.getElementById("lists-table").hidden = rows.length === 0;
  }

  async function refreshLists() {
    try {
      (await api("/api/faces/watchlists")).forEach((w) => lists.set(w.id, w));
      drawLists();
      if (current !== null) describe(lists.get(current));
    } catch (err) {
      toast(errorText(err), "error");
    }
  }

  function describe(list) {
    detail.querySelector('[data-field="empty"]').hidden = true;
    card.hidden = false;
    card.dataset.watchlistId = String(list.id);
    fill(card, {
      name: list.name, kind: t("watchlists.kind." + list.kind),
      summary: t("watchlists.summary", { threshold: list.threshold.toFixed(2), owner: list.owner }),
    });
    const description = card.querySelector('[data-field="description"]');
    description.textContent = list.description;
    description.hidden = !list.description;
  }

  function open(id) {
    if (!lists.has(id)) return;
    current = id;
    history.replaceState(null, "", "#list-" + id);
    drawLists();
    describe(lists.get(id));
    persons.replaceChildren();
    document.getElementById("no-persons").hidden = true;
    loadPersons();
    loadThresholds(id);
  }

  // Persons and photos ---------------------------------------------------------------

  function photoUrl(photo, crop) {
    return "/api/faces/photos/" + photo.id + "/image.jpg?" + whyQuery(why.get()) +
      (crop ? "" : "&crop=false");
  }

  function thumbnails(person) {
    if (!person.photos.length) {
      const none = document.createElement("span");
      none.className = "no-photo";
      none.textContent = t("watchlists.no_photos");
      return [none];
    }
    return person.photos.map((photo) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "face-thumb";
      button.title = t("watchlists.photo_title", {
        quality: photo.quality.toFixed(2), user: photo.added_by,
      });
      const img = document.createElement("img");
      img.alt = t("watchlists.photo_alt", { name: person.name });
      img.src = photoUrl(photo, true);
      button.append(img);
      button.addEventListener("click", () => {
        const big = photoDialog.querySelector('[data-field="image"]');
        big.src = photoUrl(photo, false);
        big.alt = img.alt;
        photoDialog.showModal();
      });
      return button;
    });
  }

  function personState(person) {
    if (!person.active) return "removed";
    if (person.expires_at && Date.parse(person.expires_at) <= Date.now()) return "expired";
    return "listed";
  }

  function drawPerson(person) {
    const node = personTpl.content.firstElementChild.cloneNode(true);
    const state = personState(person);
    node.dataset.personId = String(person.id);
    node.dataset.state = state;
    fill(node, {
      name: person.name, state: t(STATES[state]), reason: person.reason,
      reference: person.reference, expires: person.expires_at ? fmtTime(person.expires_at) : null,
      added: t("watchlists.added_by", { user: person.added_by, time: fmtTime(person.created_at) }),
    });
    node.querySelector('[data-field="photos"]').replaceChildren(...thumbnails(person));
    const actions = node.querySelector(".person-actions");
    if (actions && state === "removed") actions.remove();
    if (actions && state !== "removed") {
      const input = actions.querySelector('[data-action="enrol"]');
      input.addEventListener("change", () => enrol(person, input, node));
      actions.querySelector('[data-action="remove"]')
        .addEventListener("click", () => askToRemove(person));
    }
    return node;
  }

  async function loadPersons() {
    const stated = why.get();
    document.getElementById("persons-locked").hidden = Boolean(stated);
    if (current === null || !stated) return;
    const id = current;
    personsError.hidden = true;
    try {
      const found = await api("/api/faces/watchlists/" + id + "/persons",
        { headers: whyHeaders(stated) });
      if (id !== current) return;
      // Listed first, then expired, then removed: the ones matched now matter most.
      const order = { listed: 0, expired: 1, removed: 2 };
      found.sort((a, b) => order[personState(a)] - order[personState(b)]);
      persons.replaceChildren(...found.map(drawPerson));
      document.getElementById("no-persons").hidden = found.length > 0;
    } catch (err) {
      if (err.status === 428) why.refused(err);
      personsError.textContent = errorText(err);
      personsError.hidden = false;
    }
  }

  async function enrol(person, input, node) {
    const file = input.files && input.files[0];
    if (!file) return;
    const error = node.querySelector('[data-field="error"]');
    error.hidden = true;
    node.classList.add("busy");
    const body = new FormData();
    body.append("photo", file);
    try {
      await api("/api/faces/persons/" + person.id + "/photos", { method: "POST", body });
      toast(t("watchlists.enrolled_toast", { name: person.name }), "ok");
      await loadPersons();
    } catch (err) {
      const strong = document.createElement("strong");
      strong.textContent = t("watchlists.refused", { file: file.name });
      const reason = document.createElement("span");
      reason.dataset.field = "reason";
      reason.textContent = refusal(err);
      error.replaceChildren(strong, " ", reason);
      error.title = (err.problem && err.problem.detail) || "";
      error.hidden = false;
    } finally {
      input.value = "";
      node.classList.remove("busy");
    }
  }

  // Threshold report -----------------------------------------------------------------

  function bar(count, most, className) {
    const td = document.createElement("td");
    const track = document.createElement("span");
    track.className = "band-bar " + className;
    track.style.width = (most ? Math.round(100 * count / most) : 0) + "%";
    const n = document.createElement("span");
    n.className = "band-n";
    n.textContent = String(count);
    td.append(track, n);
    return td;
  }

  function drawThresholds(report) {
    const box = document.getElementById("thresholds");
    let suggested = report.suggested_threshold === null ? null
      : report.suggested_threshold.toFixed(3);
    if (suggested === null) {
      suggested = report.decided < data.min_decisions
        ? t("watchlists.suggest_need_more", { count: data.min_decisions })
        : t("watchlists.suggest_none");
    }
    fill(box, {
      current: report.threshold.toFixed(3),
      decided: t("watchlists.decided_value", {
        decided: report.decided, confirmed: report.confirmed, rejected: report.rejected,
      }),
      suggested,
    });
    const most = report.bands.reduce((m, b) => Math.max(m, b.confirmed, b.rejected), 0);
    box.querySelector('[data-field="bands"]').replaceChildren(...report.bands.slice().reverse()
      .map((band) => {
        const row = document.createElement("tr");
        row.classList.toggle("below", band.high <= report.threshold);
        row.append(cell(band.low.toFixed(2) + "–" + band.high.toFixed(2)),
          bar(band.confirmed, most, "band-confirmed"), bar(band.rejected, most, "band-rejected"));
        return row;
      }));
    box.querySelector('[data-field="bands-table"]').hidden = report.bands.length === 0;
    box.querySelector('[data-field="no-decisions"]').hidden = report.bands.length > 0;
  }

  async function loadThresholds(id) {
    try {
      const report = await api("/api/faces/watchlists/" + id + "/thresholds");
      if (id === current) drawThresholds(report);
    } catch (err) {
      toast(errorText(err), "error");
    }
  }

  // Dialogs (investigators) ----------------------------------------------------------

  /** Wire a dialog's form: `submit(values, showError)` returns a promise; cancel closes. */
  function dialogForm(dialog, submit) {
    if (!dialog) return;
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

  const askNewList = dialogForm(document.getElementById("list-dialog"), async (values, showError) => {
    const body = { name: text(values, "name"), kind: text(values, "kind"),
      description: text(values, "description") };
    if (body.name.length < 2) { showError(t("watchlists.name_too_short")); return false; }
    if (text(values, "threshold")) body.threshold = Number(text(values, "threshold"));
    const created = await api("/api/faces/watchlists", { method: "POST", body });
    lists.set(created.id, created);
    toast(t("watchlists.created_toast", { name: created.name }), "ok");
    open(created.id);
    return true;
  });

  const askNewPerson = dialogForm(document.getElementById("person-dialog"),
    async (values, showError) => {
      const body = { name: text(values, "name"), reason: text(values, "reason"),
        reference: text(values, "reference") || null };
      if (body.name.length < 2) { showError(t("watchlists.name_too_short")); return false; }
      if (body.reason.length < 5) { showError(t("watchlists.reason_too_short")); return false; }
      const expires = text(values, "expires_at");
      if (expires) body.expires_at = new Date(expires).toISOString();
      const added = await api("/api/faces/watchlists/" + current + "/persons",
        { method: "POST", body });
      toast(t("watchlists.person_added_toast", { name: added.name }), "ok");
      await refreshLists();
      await loadPersons();
      return true;
    });

  let removing = null;
  const askRemoval = dialogForm(document.getElementById("remove-dialog"),
    async (values, showError) => {
      const reason = text(values, "reason");
      if (reason.length < 5) { showError(t("watchlists.reason_too_short")); return false; }
      await api("/api/faces/persons/" + removing.id + "?reason=" + encodeURIComponent(reason),
        { method: "DELETE" });
      toast(t("watchlists.removed_toast", { name: removing.name }), "ok");
      await loadPersons();
      return true;
    });

  function askToRemove(person) {
    removing = person;
    askRemoval(t("watchlists.remove_title", { name: person.name }));
  }

  // Wiring -----------------------------------------------------------------------------

  listBody.addEventListener("click", (event) => {
    const row = event.target.closest("tr[data-watchlist-id]");
    if (row) open(Number(row.dataset.watchlistId));
  });
  listBody.addEventListener("keydown", (event) => {
    const row = event.target.closest("tr[data-watchlist-id]");
    if (row && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      open(Number(row.dataset.watchlistId));
    }
  });
  const newList = document.getElementById("new-list");
  if (newList) newList.addEventListener("click", () => askNewList());
  const addPerson = document.getElementById("add-person");
  if (addPerson) {
    addPerson.addEventListener("click", () => askNewPerson(
      t("watchlists.person_title", { list: lists.get(current).name })));
  }

  drawLists();
  const wanted = /^#list-(\d+)$/.exec(location.hash);
  if (wanted && lists.has(Number(wanted[1]))) open(Number(wanted[1]));
  else if (lists.size) open(Array.from(lists.values()).sort((a, b) => a.name.localeCompare(b.name))[0].id);
})();

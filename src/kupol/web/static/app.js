/* kupol console: shared helpers (texts, API calls, live feed, clock, language, logout). */
(function () {
  "use strict";

  const catalogueNode = document.getElementById("kupol-i18n");
  const messages = catalogueNode ? JSON.parse(catalogueNode.textContent) : {};

  /** The catalogue text of `key` with `{name}` placeholders filled from `params`. */
  function t(key, params) {
    const text = messages[key];
    if (text === undefined) {
      console.warn("kupol: no text for", key);
      return key;
    }
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name) =>
      Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole);
  }

  /** The JSON the server embedded in the page for its script. */
  function pageData() {
    const node = document.getElementById("page-data");
    return node ? JSON.parse(node.textContent) : {};
  }

  function cookie(name) {
    const prefix = name + "=";
    const found = document.cookie.split("; ").find((part) => part.startsWith(prefix));
    return found ? decodeURIComponent(found.slice(prefix.length)) : "";
  }

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && problem.detail) || "HTTP " + status);
      this.status = status;
      this.problem = problem;
    }
  }

  /** Call the JSON API with the session cookie (and the CSRF header on changes). */
  async function api(path, options) {
    const opts = options || {};
    const method = opts.method || "GET";
    const headers = Object.assign({ Accept: "application/json" }, opts.headers || {});
    if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = cookie("kupol_csrf");
    let body;
    if (opts.body instanceof FormData) {
      body = opts.body;  // uploads: the browser writes the multipart header and its boundary
    } else if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    let response;
    try {
      response = await fetch(path, { method, headers, body, credentials: "same-origin" });
    } catch (err) {
      throw new ApiError(0, null);
    }
    if (response.status === 401 && !opts.noRedirect) {
      const here = location.pathname + location.search;
      location.assign("/login?next=" + encodeURIComponent(here));
      throw new ApiError(401, null);
    }
    if (!response.ok) {
      let problem = null;
      try { problem = await response.json(); } catch (err) { problem = null; }
      throw new ApiError(response.status, problem);
    }
    return response.status === 204 ? null : response.json();
  }

  /** Headers stating why personal data is read: `why` is {purpose, case} (case optional).
   * Percent-encoded, as headers are Latin-1 and purposes are often Russian or Kazakh. */
  function whyHeaders(why) {
    const headers = { "X-Purpose": encodeURIComponent(why.purpose) };
    if (why.case) headers["X-Case-Number"] = encodeURIComponent(why.case);
    return headers;
  }

  /** The same as a query string, for images and links (which cannot send headers). */
  function whyQuery(why) {
    const query = new URLSearchParams({ purpose: why.purpose });
    if (why.case) query.set("case", why.case);
    return query.toString();
  }

  /** What to tell the user about a failed call, in their language. */
  function errorText(err) {
    const status = err && err.status;
    if (status === 0) return t("error.network");
    if (status === 403) return t("error.forbidden");
    if (status === 409) return t("error.conflict");
    if (status === 428) return t("error.purpose_required");
    if (status === 429) return t("error.rate_limited");
    const detail = (err && err.problem && err.problem.detail) || String(status || "");
    return t("error.generic", { detail });
  }

  /** A short message in the corner; `kind` is "info", "ok" or "error". */
  function toast(text, kind) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const item = document.createElement("div");
    item.className = "toast toast-" + (kind || "info");
    item.textContent = text;
    box.prepend(item);
    setTimeout(() => item.remove(), 5000);
  }

  function pad(n) { return String(n).padStart(2, "0"); }

  /** A time as YYYY-MM-DD HH:MM:SS in the browser's time zone (the same in every language). */
  function fmtTime(iso) {
    if (!iso) return t("common.none");
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  /** Fill `[data-field=name]` children of `root` with text. */
  function fill(root, fields) {
    Object.entries(fields).forEach(([name, value]) => {
      const node = root.querySelector('[data-field="' + name + '"]');
      if (node) node.textContent = value === null || value === undefined || value === ""
        ? t("common.none") : String(value);
    });
  }

  /** A table row of cells: text (an empty value shows as a dash) or DOM nodes as they are. */
  function row(values) {
    const tr = document.createElement("tr");
    values.forEach((v) => {
      const td = document.createElement("td");
      if (v instanceof Node) td.append(v);
      else td.textContent = v === null || v === undefined || v === "" ? "—" : String(v);
      tr.append(td);
    });
    return tr;
  }

  function setLive(state) {
    const badge = document.getElementById("live-status");
    if (!badge) return;
    badge.hidden = false;
    badge.dataset.live = state;
    const key = state === "on" ? "live.on" : state === "off" ? "live.off" : "live.connecting";
    badge.querySelector(".live-text").textContent = t(key);
  }

  /** Listen to /api/stream; `handlers` maps event names (AlertChanged…) to functions. */
  function live(handlers) {
    setLive("connecting");
    const source = new EventSource("/api/stream");
    let opened = false;
    source.onopen = () => {
      setLive("on");
      if (opened && handlers.reconnected) handlers.reconnected();
      opened = true;
    };
    source.onerror = () => setLive(source.readyState === EventSource.CLOSED ? "off" : "connecting");
    Object.entries(handlers).forEach(([name, handler]) => {
      if (name === "reconnected") return;
      source.addEventListener(name, (event) => handler(JSON.parse(event.data)));
    });
    window.addEventListener("pagehide", () => source.close());
    return source;
  }

  function startClock() {
    const clock = document.getElementById("clock");
    if (!clock) return;
    const tick = () => {
      const now = new Date();
      clock.textContent = pad(now.getHours()) + ":" + pad(now.getMinutes()) + ":" +
        pad(now.getSeconds());
      clock.dateTime = now.toISOString();
    };
    tick();
    setInterval(tick, 1000);
  }

  function wireHeader() {
    document.querySelectorAll("button.lang[data-locale]").forEach((button) => {
      button.addEventListener("click", async () => {
        try {
          await api("/api/me/locale", { method: "PUT", body: { locale: button.dataset.locale } });
          location.reload();
        } catch (err) {
          toast(errorText(err), "error");
        }
      });
    });
    const logout = document.getElementById("logout");
    if (logout) {
      logout.addEventListener("click", async () => {
        try {
          await api("/api/auth/logout", { method: "POST" });
          location.assign("/login");
        } catch (err) {
          toast(errorText(err), "error");
        }
      });
    }
  }

  /* Rows drawn by the pages' scripts line their numbers up as their column's header does
   * (a header cell of class "num"), whichever script filled the table. */
  function alignNumbers(tbody) {
    const table = tbody.closest("table");
    if (!table || !table.tHead || !table.tHead.rows.length) return;
    const columns = [...table.tHead.rows[0].cells]
      .map((cell, i) => (cell.classList.contains("num") ? i : -1)).filter((i) => i >= 0);
    if (!columns.length) return;
    [...tbody.rows].forEach((r) => columns.forEach((i) => {
      if (r.cells[i]) r.cells[i].classList.add("num");
    }));
  }
  new MutationObserver((changes) => changes.forEach((change) => {
    if (change.target.tagName === "TBODY") alignNumbers(change.target);
  })).observe(document.documentElement, { childList: true, subtree: true });

  window.Kupol = {
    t, api, ApiError, errorText, toast, fmtTime, fill, row, live, pageData, whyHeaders, whyQuery,
  };
  startClock();
  wireHeader();
})();

/* The system's health for administrators: readiness, the camera pipelines, the bus
 * consumers, decisions per second and HTTP errors, refreshed every five seconds from
 * /readyz and /api/health/summary (the same figures Prometheus scrapes at /metrics). */
(function () {
  "use strict";
  const { t, api, errorText, row } = window.Kupol;
  const $ = (id) => document.getElementById(id);
  const num = (x, digits) => (x === null || x === undefined ? "—" : Number(x).toFixed(digits));

  async function readiness() {
    const answer = await fetch("/readyz", { credentials: "same-origin" });
    const body = await answer.json();
    $("hl-ready").replaceChildren(...Object.entries(body.checks).map(([name, state]) => {
      const li = document.createElement("li");
      li.textContent = `${name}: ${state}`;
      li.className = state === "ok" ? "ok" : "form-error";
      return li;
    }));
  }

  async function load() {
    try {
      await readiness();
      const s = await api("/api/health/summary");
      $("hl-error").hidden = true;
      $("hl-no-cameras").hidden = s.pipelines.length > 0;
      $("hl-cameras").tBodies[0].replaceChildren(...s.pipelines.map((p) => row([p.camera_id,
        p.state, num(p.fps_in, 1), num(p.fps_out, 1), num(p.lag_s, 2), p.dropped, p.restarts,
        p.last_error || ""])));
      $("hl-detector").textContent = s.detector_ms_mean === null ? ""
        : t("health.detector", { ms: num(s.detector_ms_mean, 1) });
      $("hl-consumers").tBodies[0].replaceChildren(...Object.entries(s.consumers).map(
        ([name, c]) => row([name, c.handled, c.failed, num(c.mean_ms, 1), num(c.last_lag_s, 3)])));
      $("hl-decisions").tBodies[0].replaceChildren(...Object.entries(s.decisions).map(
        ([kind, d]) => row([kind, d.total, num(d.per_s, 2)])));
      $("hl-http").textContent = t("health.http", { requests: s.http.requests,
        errors: s.http.server_errors, ms: num(s.http.mean_ms, 1) });
    } catch (err) {
      $("hl-error").textContent = errorText(err);
      $("hl-error").hidden = false;
    }
  }
  load();
  setInterval(load, 5000);
})();

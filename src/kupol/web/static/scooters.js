/* E-scooters: the rental operators, and an operator's compliance report for a day — its trips,
 * its renters' violations per 1,000 trips by kind, its fleet on the street against the cap,
 * the fines the law puts on it — with the day's violations (viewing them is audited). */
(function () {
  "use strict";
  const { t, api, errorText, fmtTime, row } = window.Kupol;
  const $ = (id) => document.getElementById(id);
  const KINDS = ["speeding", "slow_zone_speeding", "sidewalk_speeding", "no_ride_zone",
    "no_parking", "curfew", "underage", "unlicensed"];
  const money = (v) => Number(v).toLocaleString("ru-RU") + " ₸";
  const item = (text) => { const li = document.createElement("li"); li.textContent = text; return li; };

  function fail(err) {
    $("es-error").textContent = errorText(err);
    $("es-error").hidden = false;
  }

  async function report(event) {
    if (event) event.preventDefault();
    const provider = $("es-operator").value, day = $("es-day").value;
    if (!provider || !day) return;
    try {
      const [r, found] = await Promise.all([
        api("/api/scooters/operators/" + encodeURIComponent(provider) + "/compliance?day=" + day),
        api("/api/scooters/violations?provider_id=" + encodeURIComponent(provider) + "&day=" + day)]);
      $("es-error").hidden = true;
      const fleet = r.fleet_peak === null ? t("scooters.no_count")
        : t("scooters.fleet_text", { peak: r.fleet_peak, cap: r.fleet_cap,
          at: fmtTime(r.fleet_peak_at) });
      $("es-summary").replaceChildren(
        item(t("scooters.trips_text", { trips: r.trips, total: r.violations_total,
          per: r.total_per_1000.toFixed(1) })),
        item(fleet + (r.over_cap_by > 0 ? " — " + t("scooters.over_cap", { by: r.over_cap_by,
          counts: r.counts_over_cap }) : "")),
        item(r.responses === null ? t("scooters.no_responses")
          : t("scooters.responses_text", { acted: r.responses.acted,
            all: r.responses.acted + r.responses.not_acted,
            median: r.responses.median_min === null ? "—" : r.responses.median_min,
            p90: r.responses.p90_min === null ? "—" : r.responses.p90_min })),
        item(t("scooters.fines_text", { fines: money(r.fines_tenge || 0) })));
      $("es-summary").dataset.overCap = String(r.over_cap_by > 0);
      $("es-kinds").tBodies[0].replaceChildren(...KINDS.map((k) => row([
        t("scooters.kind." + k), String(r.violations[k]), r.per_1000_trips[k].toFixed(1)])));
      $("es-violations").tBodies[0].replaceChildren(...found.map((v) => row([
        fmtTime(v.at), t("scooters.kind." + v.kind), v.plate || "", v.rider_id || "",
        v.speed_kmh === null ? (v.duration_s === null ? "" : Math.round(v.duration_s) + " s")
          : Math.round(v.speed_kmh) + " / " + Math.round(v.limit_kmh) + " km/h",
        v.zone || "", v.operator_fine_tenge === null ? "" : money(v.operator_fine_tenge)])));
      $("es-report").hidden = false;
    } catch (err) {
      fail(err);
    }
  }

  $("es-report-form").addEventListener("submit", report);
  (async () => {
    try {
      const operators = await api("/api/scooters/operators");
      $("es-operators").tBodies[0].replaceChildren(...operators.map((o) => row([
        o.name, o.letter, o.bin, String(o.scooters), String(o.fleet_cap)])));
      $("es-no-operators").hidden = operators.length > 0;
      $("es-operator").replaceChildren(...operators.map((o) => {
        const option = document.createElement("option");
        option.value = o.provider_id;
        option.textContent = o.name + " (" + o.letter + ")";
        return option;
      }));
      const yesterday = new Date(Date.now() - 86400000);
      $("es-day").value = document.body.dataset.scooterDay || yesterday.toISOString().slice(0, 10);
    } catch (err) {
      fail(err);
    }
  })();
})();

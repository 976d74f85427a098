/* Driving schools: the ranking by quality with each score's evidence (its components, their
 * intervals) and the open anomaly flags for inspectors; a run of the checks on demand. */
(function () {
  "use strict";
  const { t, api, errorText, pageData, row } = window.Kupol;
  const data = pageData();
  const $ = (id) => document.getElementById(id);
  const num = (v, digits) => (v === null || v === undefined ? "—" : Number(v).toFixed(digits));

  function fail(err) {
    $("sc-error").textContent = errorText(err);
    $("sc-error").hidden = false;
  }
  function schoolLink(id, name) {
    const a = document.createElement("a");
    a.href = "/schools/" + encodeURIComponent(id);
    a.textContent = name || id;
    return a;
  }
  /* The components in a line: "state practice 82 % of 64 · accidents 0.03/yr of 120 …". */
  function evidence(score) {
    return score.components.map((c) => t("schools.component." + c.name) + " " +
      (c.estimate === null ? "—" : c.unit === "first attempts" ? Math.round(100 * c.estimate) + " %"
        : Number(c.estimate).toFixed(3)) + " (n " + Math.round(c.n) + ")" +
      (c.sufficient ? "" : " ✗")).join(" · ");
  }

  async function load() {
    const region = $("sc-region").value;
    const query = region ? "?region=" + encodeURIComponent(region) : "";
    try {
      const [ranking, flags] = await Promise.all([api("/api/schools/ranking" + query),
        api("/api/schools/flags?status=open")]);
      $("sc-error").hidden = true;
      const names = new Map(ranking.map((r) => [r.score.subject_id, r.name]));
      $("sc-ranking").tBodies[0].replaceChildren(...ranking.map((r) => row([
        r.score.rank === null ? "—" : String(r.score.rank), schoolLink(r.score.subject_id, r.name),
        r.region, r.score.score === null ? t("schools.status." + r.score.status)
          : num(r.score.score, 2),
        r.score.interval ? num(r.score.interval.low, 2) + " … " + num(r.score.interval.high, 2)
          : "", evidence(r.score), String(r.open_flags)])));
      $("sc-none").hidden = ranking.length > 0;
      const shown = region ? flags.filter((f) => f.region === region) : flags;
      $("sc-flags").tBodies[0].replaceChildren(...shown.map((f) => row([
        t("schools.severity." + f.severity), t("schools.flag." + f.kind),
        f.school_id ? schoolLink(f.school_id, names.get(f.school_id)) : "—",
        f.subject_kind + " " + f.subject_id, f.reason])));
      $("sc-no-flags").hidden = shown.length > 0;
    } catch (err) {
      fail(err);
    }
  }

  $("sc-region").addEventListener("change", load);
  if (data.can_inspect) {
    $("sc-check").addEventListener("click", async () => {
      try {
        const region = $("sc-region").value || null;
        const found = await api("/api/schools/checks", { method: "POST", body: { region } });
        $("sc-checked").textContent = t("schools.checked", { found: found.found, new: found.new });
        $("sc-checked").hidden = false;
        await load();
      } catch (err) {
        fail(err);
      }
    });
  }
  (async () => {
    try {
      const regions = await api("/api/schools/regions");
      $("sc-region").append(...regions.map((r) => {
        const option = document.createElement("option");
        option.value = r;
        option.textContent = r;
        return option;
      }));
    } catch (err) {
      fail(err);
    }
    await load();
  })();
})();

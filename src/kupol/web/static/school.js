/* One driving school: its record, its quality score with every component's evidence, its
 * flags (ticked ones are taken up by the inspection recorded below) and its inspections. */
(function () {
  "use strict";
  const { t, api, errorText, pageData, row } = window.Kupol;
  const data = pageData();
  const $ = (id) => document.getElementById(id);
  const num = (v, digits) => (v === null || v === undefined ? "—" : Number(v).toFixed(digits));
  const url = "/api/schools/" + encodeURIComponent(data.school_id);

  function fail(id, err) {
    $(id).textContent = errorText(err);
    $(id).hidden = false;
  }
  function item(text) {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }

  async function load() {
    let view;
    try {
      view = await api(url);
    } catch (err) {
      fail("sd-error", err);
      return;
    }
    const s = view.school, score = view.ranked.score;
    $("sd-title").textContent = s.name;
    $("sd-facts").replaceChildren(item(t("schools.region") + ": " + s.region),
      item(t("schools.licence") + ": " + s.licence_no),
      item(t("schools.categories") + ": " + s.categories.join(", ")));
    $("sd-score").textContent = score.score === null
      ? t("schools.status.insufficient_data") + " — " + score.reason
      : t("schools.score_text", { rank: score.rank, score: num(score.score, 2),
        low: num(score.interval.low, 2), high: num(score.interval.high, 2) });
    $("sd-components").tBodies[0].replaceChildren(...score.components.map((c) => row([
      t("schools.component." + c.name), String(c.events), String(Math.round(c.n)),
      c.estimate === null ? "—" : c.unit === "first attempts" ? Math.round(100 * c.estimate) + " %"
        : num(c.estimate, 3),
      c.interval ? num(c.interval.low, 3) + " … " + num(c.interval.high, 3) : "",
      c.unit === "first attempts" ? Math.round(100 * c.region_mean) + " %" : num(c.region_mean, 3),
      Math.round(100 * c.weight) + " %", c.sufficient ? "✓" : t("schools.below_minimum",
        { minimum: c.minimum })])));
    $("sd-flags").tBodies[0].replaceChildren(...view.flags.map((f) => {
      let pick = "";
      if (data.can_inspect && f.status === "open") {
        pick = document.createElement("input");
        pick.type = "checkbox";
        pick.value = String(f.id);
        pick.checked = true;
        pick.setAttribute("aria-label", t("schools.take_up"));
      }
      return row([pick, t("schools.severity." + f.severity), t("schools.flag." + f.kind),
        f.subject_kind + " " + f.subject_id, f.reason, t("schools.fstatus." + f.status)]);
    }));
    $("sd-no-flags").hidden = view.flags.length > 0;
    $("sd-inspections").tBodies[0].replaceChildren(...view.inspections.map((i) => row([
      i.inspected_on, i.inspector, t("schools.sanction." + i.sanction),
      i.fine_tenge === null ? "" : Number(i.fine_tenge).toLocaleString("ru-RU") + " ₸",
      i.findings, String(i.flag_ids.length)])));
    $("sd-no-inspections").hidden = view.inspections.length > 0;
  }

  if ($("sd-inspect")) {
    $("sd-date").value = new Date().toISOString().slice(0, 10);
    $("sd-inspect").addEventListener("submit", async (event) => {
      event.preventDefault();
      $("sd-inspect-error").hidden = true;
      const fine = $("sd-fine").value;
      const body = { inspected_on: $("sd-date").value, findings: $("sd-findings").value,
        sanction: $("sd-sanction").value,
        flag_ids: [...$("sd-flags").querySelectorAll("input:checked")].map((b) => Number(b.value)) };
      if (fine) body.fine_tenge = Number(fine);
      try {
        await api(url + "/inspections", { method: "POST", body });
        $("sd-findings").value = "";
        $("sd-fine").value = "";
        await load();
      } catch (err) {
        fail("sd-inspect-error", err);
      }
    });
  }
  load();
})();

/* Shared by the faces pages: the purpose stated once per page, and why a photo was refused. */
(function () {
  "use strict";
  const { t, errorText } = window.Kupol;
  const MIN_PURPOSE = 5;
  const REASONS = ["too_small", "blurred", "turned", "low_confidence"];

  /** The page's purpose form (faces_purpose.html). `onStated(why)` runs each time the user
   * states a purpose; it is kept only while the page is open, so a new page asks again. */
  function purpose(onStated) {
    const form = document.getElementById("purpose-form");
    const input = document.getElementById("purpose");
    const error = document.getElementById("purpose-error");
    const stated = document.getElementById("purpose-stated");
    let why = null;

    function ask(text) {
      stated.hidden = true;
      form.hidden = false;
      error.textContent = text || "";
      error.hidden = !text;
      input.focus();
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = input.value.trim();
      if (value.length < MIN_PURPOSE) {
        ask(t("error.purpose_required"));
        return;
      }
      why = { purpose: value };
      stated.querySelector('[data-field="purpose"]').textContent = value;
      error.hidden = true;
      form.hidden = true;
      stated.hidden = false;
      onStated(why);
    });
    document.getElementById("purpose-change").addEventListener("click", () => ask(""));
    return {
      get: () => why,
      /** The server did not accept the purpose (428): ask for it again. */
      refused(err) {
        why = null;
        ask(errorText(err));
      },
    };
  }

  /** Why the server refused a face photo, in the user's words: no face, several faces, a
   * face too poor to match, or not an image at all. */
  function refusal(err) {
    if (!err || err.status !== 422 || !err.problem) return errorText(err);
    const problem = err.problem;
    switch (problem.code) {
      case "several_faces": {
        const match = /(\d+) faces/.exec(String(problem.detail || ""));
        return t("faces.refused_several", { count: match ? match[1] : "2+" });
      }
      case "no_face":
        return t("faces.refused_no_face");
      case "poor_face": {
        const reasons = (problem.errors || []).map((e) =>
          REASONS.includes(e.message) ? t("faces.reason." + e.message) : e.message);
        return t("faces.refused_poor", { reasons: reasons.join(", ") });
      }
      case "not_image":
        return t("faces.refused_not_image");
      default:
        return errorText(err);
    }
  }

  window.KupolFaces = { purpose, refusal };
})();

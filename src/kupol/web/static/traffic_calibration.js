/* Calibration: click road points on a frame of the camera (a live frame, or a still loaded
 * from a file), give each its place on the road in metres, check the fit (each mark's error)
 * and save the marks with the camera's traffic settings. */
(function () {
  "use strict";
  const { t, api, errorText, pageData, toast, whyQuery } = window.Kupol;
  const data = pageData();
  const canvas = document.getElementById("calibration-canvas");
  const context = canvas.getContext("2d");
  const select = document.getElementById("calibration-camera");
  const tbody = document.querySelector("#marks-table tbody");
  const error = document.getElementById("calibration-error");
  const result = document.getElementById("fit-result");
  let frame = null;
  let marks = [];
  let errors = [];

  data.cameras.forEach((c) => {
    const option = document.createElement("option");
    option.value = c.id;
    option.textContent = c.name + " (" + c.id + ")";
    select.append(option);
  });

  function camera() { return data.cameras.find((c) => c.id === select.value); }

  function loadMarks() {
    const traffic = (camera() || {}).traffic || {};
    marks = (traffic.calibration || []).map((m) => ({ image: m.image, ground: m.ground }));
    errors = [];
    draw();
  }

  function draw() {
    context.fillStyle = "#222";
    context.fillRect(0, 0, canvas.width, canvas.height);
    if (frame) context.drawImage(frame, 0, 0, canvas.width, canvas.height);
    marks.forEach((m, i) => {
      const x = m.image[0] * canvas.width;
      const y = m.image[1] * canvas.height;
      context.strokeStyle = "#ffd400";
      context.lineWidth = 2;
      context.beginPath();
      context.arc(x, y, 6, 0, 2 * Math.PI);
      context.stroke();
      context.fillStyle = "#ffd400";
      context.font = "14px sans-serif";
      context.fillText(String(i + 1), x + 8, y - 8);
    });
    table();
  }

  function table() {
    tbody.replaceChildren(...marks.map((m, i) => {
      const tr = document.createElement("tr");
      const number = document.createElement("td");
      number.textContent = String(i + 1);
      const where = document.createElement("td");
      where.textContent = m.image.map((v) => v.toFixed(3)).join(", ");
      const inputs = [0, 1].map((axis) => {
        const td = document.createElement("td");
        const input = document.createElement("input");
        input.type = "number";
        input.step = "0.01";
        input.value = m.ground[axis];
        input.addEventListener("change", () => { m.ground[axis] = Number(input.value); });
        td.append(input);
        return td;
      });
      const err = document.createElement("td");
      err.className = "num";
      err.textContent = errors[i] === undefined ? "" : errors[i].toFixed(2) + " m";
      const remove = document.createElement("td");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-ghost-dark";
      button.textContent = "×";
      button.title = t("calibration.remove");
      button.addEventListener("click", () => { marks.splice(i, 1); errors = []; draw(); });
      remove.append(button);
      tr.append(number, where, ...inputs, err, remove);
      return tr;
    }));
  }

  function showImage(src) {
    const image = new Image();
    image.onload = () => { frame = image; draw(); };
    image.onerror = () => { error.textContent = t("calibration.no_frame"); error.hidden = false; };
    image.src = src;
  }

  canvas.addEventListener("click", (event) => {
    const box = canvas.getBoundingClientRect();
    const x = (event.clientX - box.left) / box.width;
    const y = (event.clientY - box.top) / box.height;
    marks.push({ image: [Number(x.toFixed(4)), Number(y.toFixed(4))], ground: [0, 0] });
    errors = [];
    draw();
  });

  document.getElementById("frame-file").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (file) showImage(URL.createObjectURL(file));
  });
  const live = document.getElementById("live-frame");
  if (live) {
    live.addEventListener("click", () => {
      const purpose = document.getElementById("live-purpose").value.trim();
      if (purpose.length < 5) { error.textContent = t("error.purpose_required"); error.hidden = false; return; }
      error.hidden = true;
      showImage("/api/cameras/" + encodeURIComponent(select.value) + "/live.jpg?annotate=false&" +
        whyQuery({ purpose }));
    });
  }

  async function check() {
    try {
      const fit = await api("/api/traffic/calibration/check", { method: "POST", body: { marks } });
      errors = fit.errors_m;
      result.textContent = t("calibration.fit", { rms: fit.rms_m, marks: fit.marks });
      error.hidden = true;
      table();
      return true;
    } catch (err) {
      error.textContent = errorText(err);
      error.hidden = false;
      return false;
    }
  }

  async function save() {
    if (!(await check())) return;
    const current = await api("/api/cameras/" + encodeURIComponent(select.value));
    const analytics = Object.assign({}, current.analytics || {});
    analytics.traffic = Object.assign({}, analytics.traffic || {}, { calibration: marks });
    try {
      await api("/api/cameras/" + encodeURIComponent(select.value), { method: "PATCH",
        body: { analytics } });
      toast(t("calibration.saved"), "info");
    } catch (err) {
      error.textContent = errorText(err);
      error.hidden = false;
    }
  }

  select.addEventListener("change", () => { frame = null; loadMarks(); });
  document.getElementById("check-fit").addEventListener("click", check);
  document.getElementById("save-fit").addEventListener("click", save);
  loadMarks();
})();

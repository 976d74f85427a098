/* A place picker on kupol's own map tiles (/tiles/{z}/{x}/{y}.png, Web Mercator): drag to
 * move, + and − to zoom, tap to put the pin — its latitude and longitude go into the form's
 * fields, and typing them moves the pin. No map library and nothing from the internet. */
(function () {
  "use strict";
  const SIZE = 256;
  function project(lat, lon, z) {
    const n = 2 ** z;
    const rad = (Math.max(-85.0511, Math.min(85.0511, lat)) * Math.PI) / 180;
    return [((lon + 180) / 360) * n * SIZE,
      ((1 - Math.asinh(Math.tan(rad)) / Math.PI) / 2) * n * SIZE];
  }
  function unproject(px, py, z) {
    const n = 2 ** z * SIZE;
    const lon = (px / n) * 360 - 180;
    const lat = (Math.atan(Math.sinh(Math.PI * (1 - (2 * py) / n))) * 180) / Math.PI;
    return [lat, lon];
  }

  /** Attach a picker to `box` (holding `.tiles`, `.pin`, zoom buttons) and two inputs. */
  function placePicker(box, tiles, pin, zoomIn, zoomOut, latInput, lonInput, start) {
    let z = start.zoom;
    let [cx, cy] = project(start.lat, start.lon, z);
    let picked = null;
    function draw() {
      const w = box.clientWidth;
      const h = box.clientHeight;
      const left = cx - w / 2;
      const top = cy - h / 2;
      const images = [];
      const n = 2 ** z;
      for (let tx = Math.floor(left / SIZE); tx <= Math.floor((left + w) / SIZE); tx++) {
        for (let ty = Math.floor(top / SIZE); ty <= Math.floor((top + h) / SIZE); ty++) {
          if (tx < 0 || ty < 0 || tx >= n || ty >= n) continue;
          const img = document.createElement("img");
          img.src = `/tiles/${z}/${tx}/${ty}.png`;
          img.alt = "";
          img.draggable = false;
          img.style.left = `${Math.round(tx * SIZE - left)}px`;
          img.style.top = `${Math.round(ty * SIZE - top)}px`;
          images.push(img);
        }
      }
      tiles.replaceChildren(...images);
      if (picked) {
        const [px, py] = project(picked[0], picked[1], z);
        pin.style.left = `${Math.round(px - left)}px`;
        pin.style.top = `${Math.round(py - top)}px`;
        pin.hidden = false;
      } else {
        pin.hidden = true;
      }
    }
    function pick(lat, lon, fill) {
      picked = [lat, lon];
      if (fill) {
        latInput.value = lat.toFixed(6);
        lonInput.value = lon.toFixed(6);
      }
      draw();
    }
    function zoom(by) {
      const next = Math.max(3, Math.min(18, z + by));
      const [lat, lon] = unproject(cx, cy, z);
      z = next;
      [cx, cy] = project(lat, lon, z);
      draw();
    }
    let drag = null;
    box.addEventListener("pointerdown", (event) => {
      if (event.target.closest("button")) return;
      drag = { x: event.clientX, y: event.clientY, cx, cy, moved: false };
      box.setPointerCapture(event.pointerId);
    });
    box.addEventListener("pointermove", (event) => {
      if (!drag) return;
      const dx = event.clientX - drag.x;
      const dy = event.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 4) drag.moved = true;
      cx = drag.cx - dx;
      cy = drag.cy - dy;
      draw();
    });
    box.addEventListener("pointerup", (event) => {
      if (drag && !drag.moved) {
        const rect = box.getBoundingClientRect();
        const px = cx - box.clientWidth / 2 + (event.clientX - rect.left);
        const py = cy - box.clientHeight / 2 + (event.clientY - rect.top);
        const [lat, lon] = unproject(px, py, z);
        pick(lat, lon, true);
      }
      drag = null;
    });
    zoomIn.addEventListener("click", () => zoom(1));
    zoomOut.addEventListener("click", () => zoom(-1));
    function typed() {
      const lat = Number(latInput.value);
      const lon = Number(lonInput.value);
      if (latInput.value && lonInput.value && Number.isFinite(lat) && Number.isFinite(lon)) {
        [cx, cy] = project(lat, lon, z);
        pick(lat, lon, false);
      }
    }
    latInput.addEventListener("change", typed);
    lonInput.addEventListener("change", typed);
    window.addEventListener("resize", draw);
    draw();
    return { draw, clear() { picked = null; draw(); } };
  }
  window.KupolPlacePicker = placePicker;
})();

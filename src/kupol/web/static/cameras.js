/* Cameras: pipeline health every few seconds; the annotated live views once a purpose is
 * stated (each stream is audited when it opens); the zone editor for administrators. */
(function () {
  "use strict";
  const { t, api, errorText, toast, pageData } = window.Kupol;
  const data = pageData();
  const HEALTH_EVERY_MS = 3000;
  const RETRY_AFTER_MS = 10000;
  // A browser keeps six connections to one server and each open stream holds one:
  // leave some for the page's own API calls.
  const MAX_STREAMS = 4;
  const STATES = {
    starting: "cameras.state.starting",
    running: "cameras.state.running",
    retrying: "cameras.state.retrying",
    finished: "cameras.state.finished",
    stopped: "cameras.state.stopped",
    no_pipeline: "cameras.state.no_pipeline",
    no_stream: "cameras.state.no_stream",
    disabled: "cameras.state.disabled",
  };
  const form = document.getElementById("live-form");
  const formError = document.getElementById("live-error");
  const tiles = new Map();
  const open = [];  // camera ids with an open stream, oldest first
  let why = null;   // { purpose, case } once stated
  let refreshing = false;
  let opened = 0;   // numbers each stream's URL: an image URL seen before may come from cache

  data.cameras.forEach((camera) => {
    const node = document.querySelector('.cam-tile[data-camera-id="' + camera.id + '"]');
    tiles.set(camera.id, {
      camera, node,
      img: node.querySelector("img.cam-live"),
      toggle: node.querySelector('[data-action="toggle"]'),
      piped: camera.enabled && camera.stream,
      health: null, startedAt: null, paused: false, retryAt: 0,
    });
  });

  function field(tile, name) { return tile.node.querySelector('[data-field="' + name + '"]'); }

  function showPlaceholder(tile, key) {
    const text = field(tile, "placeholder");
    text.textContent = t(key);
    text.hidden = false;
    if (tile.img) tile.img.hidden = true;
  }

  function streamUrl(id, still) {
    const query = new URLSearchParams({ purpose: why.purpose });
    if (why.case) query.set("case", why.case);
    if (still) query.set("annotate", "false");
    query.set("view", String(++opened));
    return "/api/cameras/" + encodeURIComponent(id) + (still ? "/live.jpg?" : "/live.mjpeg?") +
      query.toString();
  }

  function closeStream(tile, key) {
    const at = open.indexOf(tile.camera.id);
    if (at >= 0) open.splice(at, 1);
    if (tile.img) {
      tile.img.removeAttribute("src");  // ends the request, and with it the server's stream
      tile.img.hidden = true;
    }
    tile.node.dataset.live = "off";
    if (key) showPlaceholder(tile, key);
    updateToggle(tile);
  }

  function openStream(tile) {
    if (open.length >= MAX_STREAMS) {
      const oldest = tiles.get(open[0]);
      oldest.paused = true;
      closeStream(oldest, "cameras.view_paused");
    }
    open.push(tile.camera.id);
    tile.paused = false;
    tile.startedAt = tile.health ? tile.health.started_at : null;
    tile.node.dataset.live = "connecting";
    showPlaceholder(tile, "cameras.view_connecting");
    tile.img.src = streamUrl(tile.camera.id, false);
    updateToggle(tile);
  }

  function updateToggle(tile) {
    if (!tile.toggle) return;
    const streaming = open.includes(tile.camera.id);
    tile.toggle.textContent = t(streaming ? "cameras.pause" : "cameras.show");
    tile.toggle.disabled = !why || !tile.health || tile.health.state !== "running";
  }

  /** Open, keep or close a tile's stream to match its pipeline and the user's choices. */
  function reconcile(tile) {
    if (!tile.img || !tile.piped) return;
    const running = tile.health && tile.health.state === "running";
    const streaming = open.includes(tile.camera.id);
    if (!why) {
      showPlaceholder(tile, "cameras.view_need_purpose");
    } else if (!running) {
      if (streaming) closeStream(tile, null);
      showPlaceholder(tile, "cameras.view_waiting");
    } else if (streaming && tile.health.started_at !== tile.startedAt) {
      closeStream(tile, null);  // the pipeline restarted (new zones): its old stream ended
      openStream(tile);
    } else if (!streaming && !tile.paused && Date.now() >= tile.retryAt) {
      if (open.length < MAX_STREAMS) openStream(tile);
      else showPlaceholder(tile, "cameras.view_paused");
    } else if (!streaming && tile.paused) {
      showPlaceholder(tile, "cameras.view_paused");
    }
    updateToggle(tile);
  }

  function showHealth(tile, health) {
    const state = !tile.camera.enabled ? "disabled"
      : !tile.camera.stream ? "no_stream"
        : health ? health.state : "no_pipeline";
    tile.health = health;
    tile.node.dataset.state = state;
    field(tile, "state").textContent = STATES[state] ? t(STATES[state]) : state;
    const values = health ? {
      fps: t("cameras.fps_value", {
        fps_in: health.fps_in.toFixed(1), fps_out: health.fps_out.toFixed(1),
      }),
      lag: t("cameras.seconds", { value: health.lag_s.toFixed(1) }),
      dropped: String(health.dropped),
      events: String(health.events),
    } : {};
    ["fps", "lag", "dropped", "events"].forEach((name) => {
      field(tile, name).textContent = values[name] || t("common.none");
    });
    const error = field(tile, "error");
    error.hidden = !(health && health.last_error);
    error.textContent = health && health.last_error
      ? t("cameras.last_error", { error: health.last_error }) : "";
    error.title = error.textContent;
    reconcile(tile);
  }

  async function refreshHealth() {
    if (refreshing) return;
    refreshing = true;
    try {
      const byCamera = new Map((await api("/api/vision/health")).map((h) => [h.camera_id, h]));
      tiles.forEach((tile, id) => showHealth(tile, byCamera.get(id) || null));
      document.body.dataset.health = "loaded";
    } catch (err) {
      if (err.status !== 401) toast(errorText(err), "error");
    } finally {
      refreshing = false;
    }
  }

  tiles.forEach((tile) => {
    if (!tile.img) return;
    tile.img.addEventListener("load", () => {
      if (!open.includes(tile.camera.id)) return;
      tile.img.hidden = false;
      field(tile, "placeholder").hidden = true;
      tile.node.dataset.live = "on";
    });
    tile.img.addEventListener("error", () => {
      if (!tile.img.getAttribute("src")) return;  // closed on purpose
      tile.retryAt = Date.now() + RETRY_AFTER_MS;
      closeStream(tile, "cameras.view_error");
    });
  });

  document.getElementById("camera-grid").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const tile = tiles.get(button.closest("[data-camera-id]").dataset.cameraId);
    if (button.dataset.action === "toggle") {
      if (open.includes(tile.camera.id)) {
        tile.paused = true;
        closeStream(tile, "cameras.view_paused");
      } else {
        tile.retryAt = 0;
        openStream(tile);
      }
    }
    if (button.dataset.action === "zones") editZones(tile);
  });

  function editZones(tile) {
    let still = null;
    let reason = null;
    if (!data.live) reason = "zones.no_picture_permission";
    else if (!why) reason = "zones.no_picture_purpose";
    else if (!tile.health || tile.health.state !== "running") reason = "zones.no_picture_pipeline";
    else still = streamUrl(tile.camera.id, true);
    window.KupolZones.open({
      camera: tile.camera,
      still,
      reason,
      onSaved: () => {
        toast(t("zones.saved_toast", { name: tile.camera.name }), "ok");
        setTimeout(refreshHealth, 1000);  // the pipeline restarts with the new zones
      },
    });
  }

  if (form) {
    form.addEventListener("submit", (submit) => {
      submit.preventDefault();
      const values = new FormData(form);
      const purpose = String(values.get("purpose") || "").trim();
      if (purpose.length < 5) {
        formError.textContent = t("error.purpose_required");
        formError.hidden = false;
        document.getElementById("live-purpose").focus();
        return;
      }
      formError.hidden = true;
      const changed = why !== null;
      why = { purpose, case: String(values.get("case") || "").trim() };
      // A new purpose reopens the open streams, so the audit log holds the one they run under.
      open.slice().forEach((id) => closeStream(tiles.get(id), null));
      tiles.forEach((tile) => { tile.paused = false; tile.retryAt = 0; });
      if (changed) toast(t("cameras.purpose_changed"), "info");
      tiles.forEach(reconcile);
    });
  }

  window.addEventListener("pagehide", () => open.slice().forEach((id) => closeStream(tiles.get(id))));
  refreshHealth();
  setInterval(refreshHealth, HEALTH_EVERY_MS);
})();

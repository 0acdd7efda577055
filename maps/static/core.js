/* gridgov planner map: API calls, errors shown in words, display projection, busy state. */
"use strict";
window.gg = window.gg || {};
(function (gg) {
  gg.state = { asOf: null, gcj: false, tool: null, base: "blank" };

  /** A Leaflet object folium declared at the top level of the page (var or let). */
  // The page's inline script hands them over in gg.objects: no eval (the page's CSP forbids it).
  gg.global = function (name) {
    if (gg.objects && gg.objects[name] !== undefined) return gg.objects[name];
    return name in window ? window[name] : undefined;
  };

  // ---- API -------------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, code, message, field) {
      super(message);
      this.status = status;
      this.code = code;
      this.field = field;
    }
  }
  gg.ApiError = ApiError;

  gg.apiKey = function () {
    return sessionStorage.getItem("gridgov.apiKey") || "";
  };

  /** Query string of `params`, skipping empty values; the as-of date is added unless `asOf: false`. */
  gg.query = function (params, withAsOf) {
    const q = new URLSearchParams();
    Object.entries(params || {}).forEach(([k, v]) => {
      if (v === undefined || v === null || v === "") return;
      (Array.isArray(v) ? v : [v]).forEach((item) => q.append(k, item));
    });
    if (withAsOf !== false && gg.state.asOf) q.set("datetime", gg.state.asOf);
    const s = q.toString();
    return s ? "?" + s : "";
  };

  /** The units at a clicked [lon, lat] (GET /locate), or null after showing why it failed. */
  gg.locateAt = async function (lonlat) {
    try {
      return await gg.api("/locate" + gg.query({ lon: lonlat[0].toFixed(6), lat: lonlat[1].toFixed(6) }));
    } catch (err) {
      gg.showError(err, gg.t("err_locate"));
      return null;
    }
  };

  /**
   * Call the API; resolves with the parsed JSON body, rejects with an ApiError carrying the API's own
   * message (or a sentence saying the server could not be reached).
   */
  gg.api = async function (path, options) {
    const opts = options || {};
    const headers = { Accept: "application/json, application/geo+json" };
    const key = opts.key !== undefined ? opts.key : gg.apiKey();
    if (key) headers["X-API-Key"] = key;
    let body;
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    const url = (gg.config.apiBase || "") + path;
    gg.busy(1);
    let response;
    try {
      response = await fetch(url, { method: opts.method || "GET", headers: headers, body: body, signal: opts.signal });
    } catch (e) {
      if (e && e.name === "AbortError") throw new ApiError(0, "aborted", "aborted", null);
      throw new ApiError(0, "network", gg.t("err_network", { url: path }), null);
    } finally {
      gg.busy(-1);
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (e) {
      data = null;
    }
    if (!response.ok) {
      const err = data && data.error ? data.error : null;
      const message = err ? gg.errorText(err, response.status)
        : gg.t("err_http", { status: response.status, text: gg.lang === "en" ? text.slice(0, 200) || response.statusText : "" });
      const apiErr = new ApiError(response.status, err ? err.code : "http_error", message, err ? err.field : null);
      apiErr.body = err;
      throw apiErr;
    }
    return data;
  };

  /**
   * The API's message in the page language: `message_zh` when the API sends it, else the page's own
   * sentence for the error's stable code (`err_code_<code>`), else the API's `message` (English).
   */
  gg.errorText = function (err, status) {
    if (gg.lang === "en") return err.message || gg.t("err_http", { status: status, text: "" });
    if (err.message_zh) return err.message_zh;
    const key = "err_code_" + (err.code || "");
    if (err.code && gg.t(key) !== key) return gg.t(key, { field: gg.fieldLabel(err.field) });
    const byStatus = "err_status_" + status;
    return gg.t(byStatus) !== byStatus ? gg.t(byStatus) : gg.t("err_http", { status: status, text: "" });
  };

  /** A request field in words ("effective_date" -> "生效日期"); an unknown one as it is. */
  gg.fieldLabel = function (field) {
    if (!field) return "";
    const base = String(field).replace(/\[\d+\].*$/, "").replace(/\..*$/, "");
    const key = "field_" + base;
    return gg.t(key) !== key ? gg.t(key) : field;
  };

  /** Words for an error: what failed, the API's message, its status and field. */
  gg.describeError = function (err, context) {
    if (!(err instanceof ApiError)) return (context ? context + ": " : "") + (err && err.message ? err.message : err);
    const sep = gg.lang === "en" ? ": " : "：";
    let text = (context ? context + sep : "") + err.message;
    const extra = [];
    if (err.status === 401 && err.message !== gg.t("err_need_key")) extra.push(gg.t("err_need_key"));
    if (err.status === 403 && err.message !== gg.t("err_forbidden")) extra.push(gg.t("err_forbidden"));
    if (err.status === 409) extra.push(err.conflict || gg.t("err_conflict"));
    if (err.status) extra.push("HTTP " + err.status + (err.field ? (gg.lang === "en" ? ", " : "，") + gg.t("field") + " "
      + gg.fieldLabel(err.field) : ""));
    if (extra.length) text += " (" + extra.join("; ") + ")";
    return text;
  };

  // ---- messages --------------------------------------------------------------------------------
  gg.messages = []; // every message shown, for the record (toasts disappear)
  const TOAST_MS = { info: 5000, success: 6000, error: 12000 };
  /**
   * A toast. The same text already on screen is not shown twice: its counter goes up and its timer
   * starts again. Every toast closes by itself (errors after 12 s; hovering keeps it open).
   */
  gg.notify = function (text, kind, timeoutMs) {
    const k = kind || "info";
    gg.messages.push({ kind: k, text: text, at: new Date().toISOString() });
    const box = document.getElementById("gg-messages");
    const timeout = timeoutMs !== undefined ? timeoutMs : TOAST_MS[k] || 5000;
    const same = Array.from(box.children).find((el) => el.dataset.text === text && el.dataset.kind === k);
    if (same) {
      const n = Number(same.dataset.count || "1") + 1;
      same.dataset.count = String(n);
      same.querySelector(".gg-msg-count").textContent = "×" + n;
      same.ggArm(timeout);
      return same;
    }
    const item = document.createElement("div");
    item.className = "gg-msg gg-msg-" + k;
    item.dataset.text = text;
    item.dataset.kind = k;
    item.setAttribute("role", k === "error" ? "alert" : "status");
    const span = document.createElement("span");
    span.textContent = text;
    const count = document.createElement("b");
    count.className = "gg-msg-count";
    const close = document.createElement("button");
    close.type = "button";
    close.className = "gg-close";
    close.setAttribute("aria-label", gg.t("close"));
    close.textContent = "×";
    close.addEventListener("click", () => item.remove());
    item.append(span, count, close);
    let timer = null;
    item.ggArm = (ms) => {
      clearTimeout(timer);
      if (ms) timer = setTimeout(() => item.remove(), ms);
    };
    item.addEventListener("mouseenter", () => clearTimeout(timer));
    item.addEventListener("mouseleave", () => item.ggArm(timeout));
    box.appendChild(item);
    while (box.children.length > 4) box.firstElementChild.remove(); // the newest four
    item.ggArm(timeout);
    return item;
  };

  /** Remove the error messages (after the action that failed has succeeded). */
  gg.clearErrors = function () {
    document.querySelectorAll("#gg-messages .gg-msg-error").forEach((el) => el.remove());
  };

  gg.showError = function (err, context) {
    const text = gg.describeError(err, context);
    gg.notify(text, "error");
    return text;
  };

  // ---- busy state (for the status line and for tests) ------------------------------------------
  let pending = 0;
  let idleWaiters = [];
  gg.busy = function (delta) {
    pending = Math.max(0, pending + delta);
    const status = document.getElementById("gg-status");
    if (status) status.textContent = pending ? gg.t("loading") : "";
    document.body.dataset.busy = pending ? "1" : "0";
    if (!pending) {
      const waiters = idleWaiters;
      idleWaiters = [];
      setTimeout(() => waiters.forEach((resolve) => resolve()), 0);
    }
  };
  /** Resolves when no API call is in flight. */
  gg.whenIdle = function () {
    return pending ? new Promise((resolve) => idleWaiters.push(resolve)) : Promise.resolve();
  };

  // ---- display projection: WGS84 data, shifted to GCJ-02 on AMap tiles -------------------------
  gg.ll = function (lon, lat) {
    if (gg.state.gcj) {
      const p = gg.gcj.fromWgs(lon, lat);
      return L.latLng(p[1], p[0]);
    }
    return L.latLng(lat, lon);
  };
  /** [lon, lat] in WGS84 of a point on the screen map. */
  gg.lonlat = function (latlng) {
    if (gg.state.gcj) return gg.gcj.toWgs(latlng.lng, latlng.lat);
    return [latlng.lng, latlng.lat];
  };
  /** A GeoJSON geometry drawn on the map, back in WGS84. */
  gg.geometryToWgs = function (geometry) {
    const walk = (c) => (typeof c[0] === "number" ? gg.lonlat(L.latLng(c[1], c[0])) : c.map(walk));
    return { type: geometry.type, coordinates: walk(geometry.coordinates) };
  };
  /**
   * Padding [top, right, bottom, left] (px) that keeps map content clear of what floats over the map:
   * the side panel (or bottom sheet), the layer list and the tool bars in the corners, the legend.
   */
  gg.coveredPadding = function () {
    const map = gg.map.getContainer().getBoundingClientRect();
    const pad = [20, 20, 20, 20];
    const panel = document.getElementById("gg-panel");
    if (!panel.hidden) {
      const box = panel.getBoundingClientRect();
      if (box.top > map.top + map.height / 3) pad[2] = Math.max(pad[2], map.bottom - box.top + 20);
      else pad[1] = Math.max(pad[1], map.right - box.left + 20);
    }
    const corner = (selector, side) => {
      const el = document.querySelector(selector);
      if (!el) return;
      const box = el.getBoundingClientRect();
      if (!box.width || !box.height) return;
      if (side === "right") pad[1] = Math.max(pad[1], map.right - box.left + 12);
      if (side === "left") pad[3] = Math.max(pad[3], box.right - map.left + 12);
      if (side === "bottom") pad[2] = Math.max(pad[2], map.bottom - box.top + 12);
    };
    corner(".leaflet-top.leaflet-right .leaflet-control-layers", "right");
    corner(".leaflet-top.leaflet-left", "left");
    const legend = document.getElementById("gg-legend");
    if (legend && !legend.classList.contains("gg-collapsed")) corner("#gg-legend", "left");
    return pad;
  };
  /** The part of the map's view not covered by panels and controls (screen lat/lng bounds). */
  gg.freeBounds = function () {
    const [top, right, bottom, left] = gg.coveredPadding();
    const size = gg.map.getSize();
    return L.latLngBounds(gg.map.containerPointToLatLng([left, top]),
      gg.map.containerPointToLatLng([Math.max(left + 1, size.x - right), Math.max(top + 1, size.y - bottom)]));
  };
  /** Fit the map to `bounds` in the part of it that panels and controls leave free. */
  gg.fitFree = function (bounds, options) {
    const [top, right, bottom, left] = gg.coveredPadding();
    const opts = Object.assign({ maxZoom: 16 }, options || {});
    gg.map.fitBounds(bounds, Object.assign({ paddingTopLeft: [left, top], paddingBottomRight: [right, bottom] }, opts));
  };

  gg.geoJSON = function (data, options) {
    return L.geoJSON(data, Object.assign({ coordsToLatLng: (c) => gg.ll(c[0], c[1]) }, options || {}));
  };
  /** Screen bounds of a WGS84 [minx, miny, maxx, maxy]. */
  gg.bounds = function (bbox) {
    return L.latLngBounds(gg.ll(bbox[0], bbox[1]), gg.ll(bbox[2], bbox[3]));
  };
  /** The WGS84 box of the view, enlarged by `pad` (a fraction of its size). */
  gg.viewBbox = function (pad) {
    const b = gg.map.getBounds().pad(pad || 0);
    const sw = gg.lonlat(b.getSouthWest());
    const ne = gg.lonlat(b.getNorthEast());
    const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
    return [clamp(sw[0], -180, 180), clamp(sw[1], -90, 90), clamp(ne[0], -180, 180), clamp(ne[1], -90, 90)];
  };
  gg.bboxParam = function (bbox) {
    return bbox.map((v) => v.toFixed(5)).join(",");
  };
  gg.bboxContains = function (outer, inner) {
    return outer && outer[0] <= inner[0] && outer[1] <= inner[1] && outer[2] >= inner[2] && outer[3] >= inner[3];
  };
  /** [minx, miny, maxx, maxy] of a GeoJSON geometry's coordinates. */
  gg.geometryBbox = function (geometry) {
    const box = [Infinity, Infinity, -Infinity, -Infinity];
    const walk = (c) => {
      if (typeof c[0] === "number") {
        box[0] = Math.min(box[0], c[0]); box[1] = Math.min(box[1], c[1]);
        box[2] = Math.max(box[2], c[0]); box[3] = Math.max(box[3], c[1]);
      } else c.forEach(walk);
    };
    walk(geometry.coordinates);
    return box;
  };
})(window.gg);

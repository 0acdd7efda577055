/* gridgov planner map: API calls, errors shown in words, display projection, busy state. */
"use strict";
window.gg = window.gg || {};
(function (gg) {
  gg.state = { asOf: null, gcj: false, tool: null, base: "blank" };

  /** A Leaflet object folium declared at the top level of the page (var or let). */
  gg.global = function (name) {
    if (name in window) return window[name];
    try {
      return new Function("return typeof " + name + " !== 'undefined' ? " + name + " : undefined")();
    } catch (e) {
      return undefined;
    }
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
      response = await fetch(url, { method: opts.method || "GET", headers: headers, body: body });
    } catch (e) {
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
      const message = err && err.message ? err.message
        : gg.t("err_http", { status: response.status, text: text.slice(0, 200) || response.statusText });
      throw new ApiError(response.status, err ? err.code : "http_error", message, err ? err.field : null);
    }
    return data;
  };

  /** Words for an error: what failed, the API's message, its status and field. */
  gg.describeError = function (err, context) {
    if (!(err instanceof ApiError)) return (context ? context + ": " : "") + (err && err.message ? err.message : err);
    let text = (context ? context + ": " : "") + err.message;
    const extra = [];
    if (err.status === 401) extra.push(gg.t("err_need_key"));
    if (err.status === 403) extra.push(gg.t("err_forbidden"));
    if (err.status === 409) extra.push(gg.t("err_conflict"));
    if (err.status) extra.push("HTTP " + err.status + (err.field ? ", " + gg.t("field") + " " + err.field : ""));
    if (extra.length) text += " (" + extra.join("; ") + ")";
    return text;
  };

  // ---- messages --------------------------------------------------------------------------------
  gg.messages = []; // every message shown, for the record (toasts disappear)
  gg.notify = function (text, kind, timeoutMs) {
    gg.messages.push({ kind: kind || "info", text: text, at: new Date().toISOString() });
    const box = document.getElementById("gg-messages");
    const item = document.createElement("div");
    item.className = "gg-msg gg-msg-" + (kind || "info");
    item.setAttribute("role", kind === "error" ? "alert" : "status");
    const span = document.createElement("span");
    span.textContent = text;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "gg-close";
    close.setAttribute("aria-label", gg.t("close"));
    close.textContent = "×";
    close.addEventListener("click", () => item.remove());
    item.append(span, close);
    box.appendChild(item);
    const timeout = timeoutMs !== undefined ? timeoutMs : (kind === "error" ? 0 : 5000);
    if (timeout) setTimeout(() => item.remove(), timeout);
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
  /** Fit the map to `bounds` in the part of it the side panel (or the bottom sheet) leaves free. */
  gg.fitFree = function (bounds, options) {
    const panel = document.getElementById("gg-panel");
    const opts = Object.assign({ maxZoom: 16 }, options || {});
    let pad = [20, 20];
    if (!panel.hidden) {
      const map = gg.map.getContainer().getBoundingClientRect();
      const box = panel.getBoundingClientRect();
      pad = box.top > map.top + map.height / 3 ? [20, map.bottom - box.top + 20] : [map.right - box.left + 20, 20];
    }
    gg.map.fitBounds(bounds, Object.assign({ paddingTopLeft: [20, 20], paddingBottomRight: pad }, opts));
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

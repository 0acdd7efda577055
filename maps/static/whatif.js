/* gridgov planner map: the live what-if counter, the grid brush and undo/redo of the selection.

While grids are picked or brushed, both communities' residents, households, workers and load are
computed here from the map layers' own properties (instant, nothing is asked of the server); the
contiguity of the two communities after the change, and every figure of a drawn area, come from
POST /proposals/preview (debounced, the older request cancelled). Nothing is stored until the
planner saves the draft. */
"use strict";
window.gg = window.gg || {};
(function (gg) {
  const FIELDS = ["residents", "households", "buildings", "elderly", "children", "special_care"];
  const W = (gg.whatif = {
    history: [], future: [], // selections (lists of grid codes) before / after the current one
    features: new Map(), // grid code -> GeoJSON feature of every grid picked once
    communities: new Map(), // community code -> properties read from the API (not on the map)
    timings: [], // ms from the input event to the counter's figures in the page (for bench/)
    painted: [], // ms from the input event to the next frame after them (painted)
    seq: 0, controller: null, timer: null, server: null,
  });

  // ---- where a point falls: grids on the map, tested here (no round trip) ---------------------
  const boxes = new WeakMap();
  function inRing(ring, x, y) {
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
  function contains(geometry, x, y) {
    let box = boxes.get(geometry);
    if (!box) boxes.set(geometry, (box = gg.geometryBbox(geometry)));
    if (x < box[0] || x > box[2] || y < box[1] || y > box[3]) return false;
    const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    return polygons.some((rings) => inRing(rings[0], x, y) && !rings.slice(1).some((hole) => inRing(hole, x, y)));
  }
  /** The grid feature on the map containing a WGS84 [lon, lat], or null (grids not loaded, or outside). */
  W.gridAt = function (lonlat) {
    const grids = gg.features.grids || {};
    for (const code in grids) {
      if (contains(grids[code].geometry, lonlat[0], lonlat[1])) return grids[code];
    }
    return null;
  };

  // ---- the selection: change, undo, redo ------------------------------------------------------
  const selection = () => (gg.draft && gg.draft.mode === "grids" ? Array.from(gg.draft.grids.keys()) : []);
  W.remember = function (feature) {
    W.features.set(feature.properties.code, feature);
  };
  /** Call before changing the picked grids: the current selection can then be restored by undo. */
  W.record = function () {
    W.history.push(selection());
    if (W.history.length > 200) W.history.shift();
    W.future = [];
  };
  W.reset = function () {
    W.history = [];
    W.future = [];
    W.cancel();
  };
  function restore(codes) {
    if (!gg.draft || gg.draft.mode !== "grids") {
      gg.layers.drawn.clearLayers();
      gg.draft = { mode: "grids", grids: new Map(), fromCode: null };
    }
    gg.draft.grids = new Map(codes.filter((c) => W.features.has(c)).map((c) => [c, W.features.get(c)]));
    const first = gg.draft.grids.values().next().value;
    if (first) gg.draft.fromCode = first.properties.parent_code || gg.draft.fromCode;
    gg.drawPickedGrids();
    gg.showDraftForm();
  }
  W.undo = function () {
    if (!W.history.length) return;
    W.mark();
    W.future.push(selection());
    restore(W.history.pop());
  };
  W.redo = function () {
    if (!W.future.length) return;
    W.mark();
    W.history.push(selection());
    restore(W.future.pop());
  };
  document.addEventListener("keydown", (e) => {
    if (!(e.ctrlKey || e.metaKey) || !gg.draft || gg.draft.mode !== "grids") return;
    if (e.target && /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName)) return;
    const key = e.key.toLowerCase();
    if (key === "z" && !e.shiftKey) W.undo();
    else if (key === "y" || (key === "z" && e.shiftKey)) W.redo();
    else return;
    e.preventDefault();
  });

  // ---- the brush: drag over grids to add them (or, starting on a picked grid, to remove them) ----
  let stroke = null; // {add: bool, seen: Set, changed: bool}
  function brushAt(e) {
    const lonlat = gg.lonlat(gg.map.mouseEventToLatLng(e));
    const grid = W.gridAt(lonlat);
    if (!grid) return;
    const code = grid.properties.code;
    if (stroke.seen.has(code)) return;
    stroke.seen.add(code);
    const d = gg.draft;
    if (stroke.add === null) {
      stroke.add = !(d && d.mode === "grids" && d.grids.has(code));
      W.record();
      if (!d || d.mode !== "grids") {
        gg.layers.drawn.clearLayers();
        gg.draft = { mode: "grids", grids: new Map(), fromCode: grid.properties.parent_code };
      }
    }
    const draft = gg.draft;
    if (stroke.add) {
      if (draft.grids.size && grid.properties.parent_code !== draft.fromCode) {
        stroke.other = grid;
        return;
      }
      if (draft.grids.has(code)) return;
      draft.fromCode = grid.properties.parent_code;
      W.remember(grid);
      draft.grids.set(code, grid);
    } else if (!draft.grids.delete(code)) return;
    W.mark(e.timeStamp);
    stroke.changed = true;
    gg.drawPickedGrids();
    gg.showDraftForm();
  }
  function onDown(e) {
    if (gg.state.tool !== "brush" || (e.button !== undefined && e.button !== 0)) return;
    if (e.target.closest(".leaflet-control")) return;
    if (!Object.keys(gg.features.grids || {}).length) {
      gg.notify(gg.t("brush_zoom_in", { zoom: gg.config.zoom.grids }), "info");
      return;
    }
    stroke = { add: null, seen: new Set(), changed: false, other: null };
    gg.map.getContainer().setPointerCapture && e.pointerId !== undefined
      && gg.map.getContainer().setPointerCapture(e.pointerId);
    brushAt(e);
    e.preventDefault();
  }
  function onMove(e) {
    if (stroke) brushAt(e);
  }
  function onUp() {
    if (!stroke) return;
    const done = stroke;
    stroke = null;
    if (done.other && gg.draft) {
      gg.notify(gg.t("err_grid_other_community", { grid: gg.name(done.other.properties),
        community: gg.communityName(gg.draft.fromCode) }), "error");
    }
    if (!done.changed && W.history.length && done.add !== null) W.history.pop(); // nothing changed: no undo step
  }
  W.setBrush = function (on) {
    const container = gg.map.getContainer();
    if (on) gg.map.dragging.disable();
    else gg.map.dragging.enable();
    container.classList.toggle("gg-brushing", on);
  };
  W.initBrush = function () {
    const container = gg.map.getContainer();
    container.addEventListener("pointerdown", onDown);
    container.addEventListener("pointermove", onMove);
    ["pointerup", "pointercancel", "pointerleave"].forEach((ev) => container.addEventListener(ev, onUp));
  };

  // ---- the counter -----------------------------------------------------------------------------
  let started = 0;
  /** The moment the selection changed: the input event's time stamp, or now (the latency is measured from here). */
  W.mark = function (at) {
    started = typeof at === "number" && at > 0 ? at : performance.now();
  };

  function communityProps(code) {
    if (!code) return null;
    const f = (gg.features.communities || {})[code];
    return f ? f.properties : W.communities.get(code) || null;
  }
  async function fetchCommunity(code) {
    if (!code || communityProps(code)) return;
    try {
      const f = await gg.api("/collections/communities/items/" + encodeURIComponent(code) + gg.query({}));
      W.communities.set(code, f.properties);
      W.update();
    } catch (err) {
      gg.showError(err, gg.t("err_unit", { code: code }));
    }
  }

  /** Totals of the picked grids, from their layer properties. */
  function movedOf(grids) {
    const sum = { grids: grids.length };
    FIELDS.forEach((k) => { sum[k] = grids.reduce((a, f) => a + (Number(f.properties[k]) || 0), 0); });
    return sum;
  }
  // ---- contiguity from the grids on the map: neighbours in a coverage share whole edges ------------
  const segmentsCache = new WeakMap();
  function segments(geometry) {
    let out = segmentsCache.get(geometry);
    if (out) return out;
    out = [];
    const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    polygons.forEach((rings) => rings.forEach((ring) => {
      for (let i = 0; i + 1 < ring.length; i++) {
        const a = ring[i][0] + "," + ring[i][1];
        const b = ring[i + 1][0] + "," + ring[i + 1][1];
        if (a !== b) out.push(a < b ? a + "|" + b : b + "|" + a);
      }
    }));
    segmentsCache.set(geometry, out);
    return out;
  }
  /** How many separate pieces `features` form (grids meeting along an edge are one piece). */
  function pieces(features) {
    const parent = features.map((_, i) => i);
    const find = (i) => (parent[i] === i ? i : (parent[i] = find(parent[i])));
    const owner = new Map();
    features.forEach((f, i) => segments(f.geometry).forEach((seg) => {
      const j = owner.get(seg);
      if (j === undefined) owner.set(seg, i);
      else parent[find(i)] = find(j);
    }));
    return new Set(features.map((_, i) => find(i))).size;
  }
  /** Whether every grid of a community is on the map (its box lies inside the loaded grid layer's box). */
  function allGridsLoaded(code) {
    const community = (gg.features.communities || {})[code];
    const loaded = gg.loadedBox ? gg.loadedBox("grids") : null;
    return !!(community && loaded && gg.bboxContains(loaded, gg.geometryBbox(community.geometry)));
  }
  /** Contiguity of A and B after the move, from the grids on the map; undefined when they are not all loaded. */
  function localContiguity(model, picked) {
    const grids = Object.values(gg.features.grids || {});
    const check = (unit, keep) => {
      if (!unit || !allGridsLoaded(unit.code)) return;
      const mine = grids.filter(keep);
      if (!mine.length) return;
      const n = pieces(mine);
      unit.contiguous = n === 1;
      unit.parts = n;
      unit.local = true;
    };
    check(model.a, (f) => f.properties.parent_code === model.a.code && !picked.has(f.properties.code));
    if (model.b) {
      const extra = Array.from(picked.values()).filter((f) => !(gg.features.grids || {})[f.properties.code]);
      check(model.b, (f) => f.properties.parent_code === model.b.code || picked.has(f.properties.code));
      if (extra.length) model.b.contiguous = undefined; // a picked grid is off the map: ask the server
    }
  }

  const side = (p, delta, sign) => {
    const before = { residents: p.residents || 0, households: p.households || 0, workers: p.workers };
    const after = { residents: before.residents + sign * delta.residents,
      households: before.households + sign * delta.households, workers: p.workers };
    return { code: p.code, name: gg.name(p), before: before, after: after };
  };

  /** The counter's model for picked grids: computed here, at once. */
  function clientModel(d, toCode) {
    const moved = movedOf(Array.from(d.grids.values()));
    const a = communityProps(d.fromCode);
    const b = communityProps(toCode);
    if (d.fromCode && !a) fetchCommunity(d.fromCode);
    if (toCode && !b) fetchCommunity(toCode);
    const model = { source: "client", moved: moved, a: a ? side(a, moved, -1) : null, b: b ? side(b, moved, 1) : null };
    localContiguity(model, d.grids);
    return model;
  }

  /** The counter's model from a preview answer (drawn areas; contiguity for picked grids). */
  function serverModel(preview) {
    const units = preview.units || [];
    const pick = (role) => {
      const u = units.find((x) => x.role === role);
      if (!u) return null;
      const fig = (x) => ({ residents: x.residents, households: x.households, workers: x.workers });
      return { code: u.code, name: u.name, before: fig(u.before || {}), after: fig(u.after || {}),
        contiguous: u.after ? u.after.contiguous : undefined, parts: u.after ? u.after.parts : undefined };
    };
    const m = preview.moved || {};
    return { source: "server", moved: Object.assign({ grids: (preview.grids_moved_whole || []).length }, m),
      a: pick("from"), b: pick("to") };
  }

  const norm = () => gg.config.styles.residentsPerWorkerNorm;
  const loadOf = (x) => (x && x.workers ? x.residents / x.workers : null);

  function contiguity(unit, pending) {
    if (!unit) return "–";
    if (unit.contiguous === true) return gg.t("yes");
    if (unit.contiguous === false) return '<span class="gg-flag">' + gg.t("parts", { n: unit.parts || 2 }) + "</span>";
    const unavailable = W.server === false || !gg.config.features.preview;
    return '<span class="gg-muted">' + (pending ? gg.t("whatif_checking") : unavailable ? gg.t("whatif_no_preview")
      : W.needsKey ? gg.t("whatif_needs_key")
      : gg.t("whatif_choose_to")) + "</span>";
  }

  function render(model, pending) {
    const box = document.getElementById("gg-whatif");
    if (!box) return;
    const cols = [model.a, model.b];
    const cell = (u, get, digits, flag) => {
      if (!u) return "<td>–</td>";
      const before = get(u.before);
      const after = get(u.after);
      const bad = flag && flag(after);
      return "<td" + (bad ? ' class="gg-flag"' : "") + ">" + gg.num(before, digits) + " → <b>" + gg.num(after, digits) + "</b></td>";
    };
    const rows = [
      ["residents", (x) => x.residents, 0], ["households", (x) => x.households, 0],
      ["workers", (x) => x.workers, 0], ["load_short", loadOf, 0, (v) => v !== null && v > norm()],
    ].map(([key, get, digits, flag]) => "<tr><th>" + gg.t(key) + "</th>" + cols.map((u) => cell(u, get, digits, flag)).join("")
      + "</tr>");
    const head = "<tr><th></th>" + cols.map((u, i) => '<th data-role="' + (i ? "to" : "from") + '">'
      + (u ? gg.esc(u.name) : gg.t(i ? "to_community" : "from_community")) + "<br><small>" + gg.t(i ? "role_to" : "role_from")
      + "</small></th>").join("") + "</tr>";
    const contiguousRow = "<tr><th>" + gg.t("contiguous") + "</th>" + cols.map((u) => "<td>" + contiguity(u, pending)
      + "</td>").join("") + "</tr>";
    const m = model.moved || {};
    box.innerHTML = '<h3>' + gg.t("whatif_title") + ' <small class="gg-muted">' + gg.t("whatif_unsaved") + "</small></h3>"
      + '<p class="gg-whatif-moved">' + gg.t("whatif_moved", { grids: gg.num(m.grids), households: gg.num(m.households),
        residents: gg.num(m.residents) }) + " · " + gg.t("elderly") + " " + gg.num(m.elderly) + " · " + gg.t("children") + " "
      + gg.num(m.children) + " · " + gg.t("special_care") + " " + gg.num(m.special_care) + "</p>"
      + '<table class="gg-table gg-units">' + head + rows.join("") + contiguousRow + "</table>"
      + '<p class="gg-muted gg-whatif-norm">' + gg.t("norm") + " ≤ " + gg.num(norm()) + " " + gg.t("load_unit") + "</p>";
    box.dataset.source = model.source;
    box.dataset.residentsFrom = model.a ? String(model.a.after.residents) : "";
    box.dataset.residentsTo = model.b ? String(model.b.after.residents) : "";
    box.dataset.moved = String(m.residents || 0);
    box.dataset.pending = pending ? "1" : "0";
    if (started) {
      const t0 = started;
      const ms = performance.now() - t0;
      W.timings.push(ms);
      box.dataset.ms = ms.toFixed(1);
      requestAnimationFrame(() => setTimeout(() => W.painted.push(performance.now() - t0), 0));
      started = 0;
    }
  }

  // ---- the preview request (debounced, cancellable, stores nothing) ------------------------------
  /** Forget the pending request: its timer is cleared and an answer still on its way is ignored. */
  W.cancel = function () {
    clearTimeout(W.timer);
    W.seq += 1;
  };

  function payload(d, toCode) {
    const form = document.getElementById("gg-draft");
    const value = (id, fallback) => {
      const el = form && form.querySelector(id);
      return el && el.value.trim() ? el.value.trim() : fallback;
    };
    const body = { from_code: d.fromCode, to_code: toCode, effective_date: value("#gg-date", gg.today()),
      author: value("#gg-author", gg.t("author_default")),
      allow_non_adjacent: !!(form && form.querySelector("#gg-nonadjacent") && form.querySelector("#gg-nonadjacent").checked) };
    if (d.mode === "area") Object.assign(body, { area: d.area, area_crs: d.areaCrs });
    else body.child_codes = Array.from(d.grids.keys());
    return body;
  }

  function ask(d, toCode, model) {
    clearTimeout(W.timer);
    if (!gg.config.features.preview || !toCode || (d.mode === "grids" && !d.grids.size)) return false;
    if (!gg.apiKey()) { // the preview needs a planner key: ask for none without it (a 401 per change is noise)
      W.needsKey = true;
      return false;
    }
    W.needsKey = false;
    const seq = ++W.seq;
    W.timer = setTimeout(async () => {
      if (W.controller) W.controller.abort(); // a newer selection replaces the request still running
      const controller = (W.controller = new AbortController());
      try {
        const answer = await gg.api("/proposals/preview", { method: "POST", body: payload(d, toCode), signal: controller.signal });
        if (seq !== W.seq) return;
        W.server = true;
        if (answer.refused) { // the change would be refused: the counter says why (not an HTTP error)
          render(model, false);
          const box = document.getElementById("gg-whatif");
          const why = gg.errorText(answer.refused, 422);
          if (box) box.insertAdjacentHTML("beforeend", '<p class="gg-error">' + gg.esc(gg.t("whatif_refused") + (gg.lang === "en" ? ": " : "：") + why) + "</p>");
          W.last = answer;
          return;
        }
        const server = serverModel(answer.preview || answer);
        if (model.source === "client") { // the figures here stay; the server adds contiguity
          ["a", "b"].forEach((k) => { if (model[k] && server[k]) Object.assign(model[k], { contiguous: server[k].contiguous, parts: server[k].parts }); });
          render(model, false);
        } else render(server, false);
        W.last = answer;
      } catch (err) {
        if (seq !== W.seq || err.code === "aborted") return;
        if (err.status === 404 || err.status === 405) W.server = false;
        render(model, false);
        const box = document.getElementById("gg-whatif");
        if (box && err.status && err.status !== 404 && err.status !== 405) {
          box.insertAdjacentHTML("beforeend", '<p class="gg-error">' + gg.esc(gg.describeError(err, gg.t("ctx_preview"))) + "</p>");
        }
      } finally {
        if (W.controller === controller) W.controller = null;
      }
    }, d.mode === "area" ? 150 : 350);
    return true;
  }

  /** Recompute the counter for the current draft (called on every change of the selection or of B). */
  W.update = function () {
    const d = gg.draft;
    if (!d || (d.mode !== "grids" && d.mode !== "area")) return;
    const to = document.getElementById("gg-to");
    const toCode = to ? to.value || null : null;
    let model;
    if (d.mode === "grids") model = clientModel(d, toCode);
    else {
      const a = communityProps(d.fromCode);
      model = { source: "area", moved: {}, a: a ? side(a, { residents: 0, households: 0 }, 0) : null, b: null };
    }
    const pending = ask(d, toCode, model);
    render(model, pending);
  };
})(window.gg);

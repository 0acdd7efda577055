/* gridgov planner map: a boundary change drawn or picked (grids) -> receiving community -> preview request. */
"use strict";
window.gg = window.gg || {};
(function (gg) {
  gg.draft = null; // {mode: "area"|"grids", area, areaCrs, grids: Map(code -> feature), fromCode, fromName}

  // Leaflet.draw's own strings, before folium's script creates the toolbar.
  if (window.L && L.drawLocal && gg.lang !== "en") {
    const d = L.drawLocal.draw;
    d.toolbar.buttons.polygon = "绘制调整区域（多边形）";
    d.toolbar.buttons.rectangle = "绘制调整区域（矩形）";
    d.toolbar.actions = { title: "取消绘制", text: "取消" };
    d.toolbar.finish = { title: "完成绘制", text: "完成" };
    d.toolbar.undo = { title: "删除最后一个点", text: "撤销上一点" };
    d.handlers.polygon.tooltip = { start: "单击开始绘制区域", cont: "单击继续绘制", end: "单击第一个点闭合区域" };
    d.handlers.polygon.error = "<strong>错误：</strong>边界不能自相交！";
    d.handlers.rectangle.tooltip.start = "按住并拖动以绘制矩形";
    d.handlers.simpleshape.tooltip.end = "松开鼠标完成绘制";
    const e = L.drawLocal.edit;
    e.toolbar.buttons = { edit: "编辑", editDisabled: "无可编辑图形", remove: "删除绘制的区域", removeDisabled: "无可删除图形" };
    e.toolbar.actions = { save: { title: "保存", text: "保存" }, cancel: { title: "取消", text: "取消" },
      clearAll: { title: "清除全部", text: "清除全部" } };
    e.handlers.remove.tooltip.text = "单击要删除的区域";
  }

  function communityName(code) {
    const f = (gg.features.communities || {})[code];
    return f ? gg.name(f.properties) : code;
  }
  gg.communityName = communityName;

  function remember(key, value) {
    if (value) localStorage.setItem("gridgov." + key, value);
  }

  // ---- the draft -------------------------------------------------------------------------------
  async function locateCommunity(lonlat) {
    const found = await gg.api("/locate" + gg.query({ lon: lonlat[0].toFixed(6), lat: lonlat[1].toFixed(6) }));
    return found.community || null;
  }

  gg.onDrawn = async function (layer) {
    const drawn = gg.layers.drawn;
    drawn.clearLayers();
    drawn.addLayer(layer);
    gg.layers.selection.clearLayers();
    const shown = layer.toGeoJSON().geometry;
    const wgs = gg.geometryToWgs(shown);
    const ring = wgs.coordinates[0];
    const centre = ring.slice(0, -1).reduce((a, c) => [a[0] + c[0], a[1] + c[1]], [0, 0])
      .map((v) => v / (ring.length - 1));
    gg.draft = { mode: "area", area: gg.state.gcj ? shown : wgs, areaCrs: gg.state.gcj ? "GCJ-02" : "EPSG:4326",
      wgs: wgs, grids: new Map(), fromCode: null };
    let from = null;
    for (const point of [centre, ring[0]]) {
      try {
        from = await locateCommunity(point);
      } catch (err) {
        if (err.status !== 404) gg.showError(err, gg.t("err_locate"));
      }
      if (from) break;
    }
    gg.draft.fromCode = from ? from.code : null;
    gg.whatif.mark();
    showDraftForm();
  };

  /** Pick or drop the grid at a point: from the grids on the map when loaded (instant), else via /locate. */
  gg.pickGrid = async function (lonlat, at) {
    gg.whatif.mark(at);
    let grid = gg.whatif.gridAt(lonlat);
    let communityCode = grid ? grid.properties.parent_code : null;
    if (!grid) {
      const found = await gg.locateAt(lonlat);
      if (!found) return;
      if (!found.grid) {
        gg.notify(gg.t("outside_units"), "info");
        return;
      }
      communityCode = found.community.code;
      grid = (gg.features.grids || {})[found.grid.code] || gg.whatif.features.get(found.grid.code) || null;
      if (!grid) {
        try {
          grid = await gg.api("/collections/grids/items/" + found.grid.code + gg.query({}));
        } catch (err) {
          gg.showError(err, gg.t("err_unit", { code: found.grid.code }));
          return;
        }
      }
    }
    const code = grid.properties.code;
    if (gg.draft && gg.draft.mode === "grids" && gg.draft.grids.size && communityCode !== gg.draft.fromCode) {
      gg.notify(gg.t("err_grid_other_community", { grid: gg.name(grid.properties), community: communityName(gg.draft.fromCode) }), "error");
      return;
    }
    gg.whatif.record();
    if (!gg.draft || gg.draft.mode !== "grids") {
      gg.layers.drawn.clearLayers();
      gg.draft = { mode: "grids", grids: new Map(), fromCode: communityCode };
    }
    const draft = gg.draft;
    draft.fromCode = communityCode;
    if (draft.grids.has(code)) draft.grids.delete(code);
    else {
      gg.whatif.remember(grid);
      draft.grids.set(code, grid);
    }
    drawPickedGrids();
    showDraftForm();
  };

  function drawPickedGrids() {
    const group = gg.layers.selection;
    group.clearLayers();
    if (!gg.draft || gg.draft.mode !== "grids") return;
    gg.draft.grids.forEach((f) => gg.geoJSON(f, { style: gg.config.styles.units.grid_picked, interactive: false }).addTo(group));
  }
  gg.drawPickedGrids = drawPickedGrids;

  /** Communities near the draft (from the communities on the map), nearest first. */
  function candidates(box) {
    const out = [];
    Object.values(gg.features.communities || {}).forEach((f) => {
      const b = gg.geometryBbox(f.geometry);
      if (b[0] <= box[2] && b[2] >= box[0] && b[1] <= box[3] && b[3] >= box[1]) out.push(f.properties);
    });
    const cx = (box[0] + box[2]) / 2;
    const cy = (box[1] + box[3]) / 2;
    const d = (p) => (p.label_point ? Math.hypot(p.label_point[0] - cx, p.label_point[1] - cy) : 9);
    return out.sort((a, b) => d(a) - d(b));
  }

  function draftBox() {
    const d = gg.draft;
    if (d.mode === "area") return gg.geometryBbox(d.wgs);
    const boxes = Array.from(d.grids.values()).map((f) => gg.geometryBbox(f.geometry));
    return boxes.reduce((a, b) => [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])],
      [Infinity, Infinity, -Infinity, -Infinity]);
  }

  function neighbours(fromCode, box) {
    const from = (gg.features.communities || {})[fromCode];
    const b = from ? gg.geometryBbox(from.geometry) : box;
    const pad = 0.002;
    return candidates([b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad]).filter((p) => p.code !== fromCode);
  }

  function options(list, selected, placeholder) {
    return (placeholder ? '<option value="">' + gg.esc(placeholder) + "</option>" : "") + list.map((p) => '<option value="'
      + gg.esc(p.code) + '"' + (p.code === selected ? " selected" : "") + ">" + gg.esc(gg.name(p)) + " · " + gg.esc(p.code)
      + "</option>").join("");
  }

  function keyField() {
    return '<label>' + gg.t("api_key") + ' <input id="gg-key" type="password" autocomplete="off" value="'
      + gg.esc(gg.apiKey()) + '" placeholder="' + gg.t("api_key_hint") + '"></label>';
  }
  function bindKeyField(body) {
    const input = body.querySelector("#gg-key");
    const save = () => {
      const had = !!gg.apiKey();
      sessionStorage.setItem("gridgov.apiKey", input.value.trim());
      if (!had && gg.apiKey() && gg.whatif && gg.whatif.needsKey) gg.whatif.update(); // now the server can be asked
    };
    if (input) ["input", "change"].forEach((event) => input.addEventListener(event, save));
  }

  /** What the planner typed in the open draft form (kept when the form is drawn again). */
  function typed() {
    const form = document.getElementById("gg-draft");
    if (!form || gg.panel.kind() !== "draft") return null;
    const v = (id) => (form.querySelector(id) ? form.querySelector(id).value : "");
    return { from: v("#gg-from"), to: v("#gg-to"), date: v("#gg-date"), reason: v("#gg-reason"), docref: v("#gg-docref"),
      author: v("#gg-author"), nonadjacent: !!(form.querySelector("#gg-nonadjacent") || {}).checked };
  }

  /** Picked grids changed while the form is open for the same community: redraw only what depends on them. */
  function refreshDraftForm(d) {
    const body = document.getElementById("gg-panel-body");
    const form = document.getElementById("gg-draft");
    if (!form || gg.panel.kind() !== "draft" || d.mode !== "grids" || form.dataset.mode !== "grids"
      || form.querySelector("#gg-from").value !== (d.fromCode || "")) return false;
    body.querySelector("#gg-draft-what").innerHTML = whatHtml(d);
    body.querySelector("#gg-undo").disabled = !gg.whatif.history.length;
    body.querySelector("#gg-redo").disabled = !gg.whatif.future.length;
    const extra = body.querySelector("#gg-draft-extra");
    extra.innerHTML = mergeButton(d) + gg.splitButton(d);
    bindExtra(body);
    gg.whatif.update();
    return true;
  }

  function whatHtml(d) {
    if (d.mode === "area") return gg.t("draft_area");
    return gg.t("draft_grids", { n: d.grids.size }) + '<ul class="gg-chips">' + Array.from(d.grids.values()).map((f) =>
      '<li data-code="' + gg.esc(f.properties.code) + '">' + gg.esc(gg.name(f.properties)) + "</li>").join("") + "</ul>";
  }

  function bindExtra(body) {
    const merge = body.querySelector("#gg-merge");
    if (merge) merge.addEventListener("click", () => submitDraft(body, "merge"));
    const split = body.querySelector("#gg-split");
    if (split) split.addEventListener("click", gg.startSplit);
  }

  function showDraftForm() {
    const d = gg.draft;
    if (!d) return;
    if (refreshDraftForm(d)) return;
    const kept = typed() || {};
    const box = draftBox();
    const fromList = candidates(box);
    if (d.fromCode && !fromList.some((p) => p.code === d.fromCode)) fromList.unshift({ code: d.fromCode, name: communityName(d.fromCode) });
    const what = whatHtml(d);
    const undo = d.mode === "grids" ? '<div class="gg-actions gg-undo"><button type="button" id="gg-undo" class="gg-btn gg-small"'
      + (gg.whatif.history.length ? "" : " disabled") + ' title="Ctrl+Z">' + gg.t("undo") + '</button><button type="button"'
      + ' id="gg-redo" class="gg-btn gg-small"' + (gg.whatif.future.length ? "" : " disabled") + ' title="Ctrl+Y">' + gg.t("redo")
      + '</button><button type="button" id="gg-brush-here" class="gg-btn gg-small" aria-pressed="' + String(gg.state.tool === "brush")
      + '">' + gg.t("tool_brush") + "</button></div>" : "";
    const html = "<h2>" + gg.t("draft_title") + '</h2><div class="gg-sub" id="gg-draft-what">' + what + "</div>" + undo
      + '<section id="gg-whatif" class="gg-whatif" aria-live="polite"></section>'
      + '<form id="gg-draft" class="gg-form" data-mode="' + d.mode + '">'
      + "<label>" + gg.t("from_community") + ' <select id="gg-from" required>' + options(fromList, d.fromCode, gg.t("choose")) + "</select></label>"
      + "<label>" + gg.t("to_community") + ' <select id="gg-to" required></select></label>'
      + "<label>" + gg.t("effective_date") + ' <input id="gg-date" type="date" required value="' + gg.esc(kept.date || gg.today()) + '"></label>'
      + "<label>" + gg.t("reason") + ' <textarea id="gg-reason" rows="2">' + gg.esc(kept.reason !== undefined ? kept.reason : gg.t("reason_default")) + "</textarea></label>"
      + "<label>" + gg.t("document_ref") + ' <input id="gg-docref" value="' + gg.esc(kept.docref || "") + '" placeholder="' + gg.t("document_ref_hint") + '"></label>'
      + "<label>" + gg.t("author") + ' <input id="gg-author" value="' + gg.esc(kept.author || localStorage.getItem("gridgov.author") || "") + '"></label>'
      + '<label class="gg-check"><input id="gg-nonadjacent" type="checkbox"' + (kept.nonadjacent ? " checked" : "") + "> " + gg.t("allow_non_adjacent") + "</label>"
      + keyField()
      + '<p id="gg-draft-error" class="gg-error" role="alert" hidden></p>'
      + '<div class="gg-actions"><button type="submit" id="gg-preview" class="gg-btn gg-primary">' + gg.t("save_draft") + "</button>"
      + '<button type="button" id="gg-draft-cancel" class="gg-btn">' + gg.t("cancel") + "</button></div>"
      + '<div id="gg-draft-extra">' + mergeButton(d) + gg.splitButton(d) + "</div></form>";
    const scroll = gg.panel.kind() === "draft" ? document.getElementById("gg-panel-body").scrollTop : 0;
    const body = gg.panel.show(html, "draft");
    body.scrollTop = scroll;
    bindKeyField(body);
    const fromSelect = body.querySelector("#gg-from");
    const toSelect = body.querySelector("#gg-to");
    const fillTo = () => {
      d.fromCode = fromSelect.value || null;
      const list = d.fromCode ? neighbours(d.fromCode, box) : [];
      const keep = kept.to && list.some((p) => p.code === kept.to) ? kept.to : null;
      toSelect.innerHTML = options(list, keep, gg.t("choose_receiving"));
    };
    fromSelect.addEventListener("change", () => { fillTo(); gg.whatif.mark(); gg.whatif.update(); });
    fillTo();
    toSelect.addEventListener("change", () => { kept.to = toSelect.value; gg.whatif.mark(); gg.whatif.update(); });
    ["#gg-date", "#gg-nonadjacent"].forEach((id) => body.querySelector(id).addEventListener("change", () => gg.whatif.update()));
    if (d.mode === "grids") {
      body.querySelector("#gg-undo").addEventListener("click", gg.whatif.undo);
      body.querySelector("#gg-redo").addEventListener("click", gg.whatif.redo);
      body.querySelector("#gg-brush-here").addEventListener("click", () => gg.setTool("brush"));
    }
    body.querySelector("#gg-draft-cancel").addEventListener("click", gg.clearDraft);
    bindExtra(body);
    body.querySelector("#gg-draft").addEventListener("submit", (e) => {
      e.preventDefault();
      submitDraft(body);
    });
    gg.whatif.update();
  }
  gg.showDraftForm = showDraftForm;

  gg.keyField = keyField;
  gg.bindKeyField = bindKeyField;
  gg.formError = formError;

  gg.clearDraft = function () {
    gg.draft = null;
    gg.whatif.reset();
    gg.layers.drawn.clearLayers();
    gg.layers.selection.clearLayers();
    if (gg.panel.kind() === "draft") gg.panel.close();
  };

  function formError(body, err, context) {
    const text = gg.showError(err, context);
    const box = body.querySelector(".gg-error[role=alert]");
    if (box) {
      box.textContent = text;
      box.hidden = false;
    }
  }

  /** Two or more picked grids (of one community) can also be merged into the first one picked. */
  function mergeButton(d) {
    if (d.mode !== "grids" || d.grids.size < 2) return "";
    const first = d.grids.values().next().value;
    return '<p class="gg-muted">' + gg.t("merge_hint") + '</p><div class="gg-actions"><button type="button" id="gg-merge" class="gg-btn"'
      + ' data-to="' + gg.esc(first.properties.code) + '">' + gg.esc(gg.t("merge_into_first", { name: gg.name(first.properties) }))
      + "</button></div>";
  }

  async function submitDraft(body, kind) {
    const d = gg.draft;
    const value = (id) => body.querySelector(id).value.trim();
    const payload = {
      from_code: value("#gg-from"), to_code: value("#gg-to"), effective_date: value("#gg-date"),
      reason: value("#gg-reason") || null, document_ref: value("#gg-docref") || null, author: value("#gg-author"),
      allow_non_adjacent: body.querySelector("#gg-nonadjacent").checked,
    };
    if (kind === "merge") {  // the first picked grid stays; the others join it and are retired
      const [keep, ...merged] = Array.from(d.grids.keys());
      Object.assign(payload, { kind: "merge", to_code: keep, merge_codes: merged, from_code: merged[0] });
    } else if (d.mode === "area") {
      payload.area = d.area;
      payload.area_crs = d.areaCrs;
    } else {
      payload.child_codes = Array.from(d.grids.keys());
    }
    remember("author", payload.author);
    if (!payload.from_code || !payload.to_code) {
      formError(body, new Error(gg.t("err_choose_units")), gg.t("ctx_preview"));
      return;
    }
    const button = body.querySelector(kind === "merge" ? "#gg-merge" : "#gg-preview");
    button.disabled = true;
    try {
      gg.current = await gg.api("/proposals", { method: "POST", body: payload });
      gg.clearErrors();
      gg.showPreview(gg.current);
      gg.refreshProposalsLayer(); // the new draft joins the pending proposals
    } catch (err) {
      formError(body, err, gg.t("ctx_preview"));
    } finally {
      button.disabled = false;
    }
  }
})(window.gg);

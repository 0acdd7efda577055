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
    showDraftForm();
  };

  gg.pickGrid = async function (lonlat) {
    const found = await gg.locateAt(lonlat);
    if (!found) return;
    if (!found.grid) {
      gg.notify(gg.t("outside_units"), "info");
      return;
    }
    if (!gg.draft || gg.draft.mode !== "grids") {
      gg.layers.drawn.clearLayers();
      gg.draft = { mode: "grids", grids: new Map(), fromCode: found.community.code };
    }
    const draft = gg.draft;
    if (draft.grids.size && found.community.code !== draft.fromCode) {
      gg.notify(gg.t("err_grid_other_community", { grid: gg.name(found.grid), community: communityName(draft.fromCode) }), "error");
      return;
    }
    draft.fromCode = found.community.code;
    if (draft.grids.has(found.grid.code)) {
      draft.grids.delete(found.grid.code);
    } else {
      let feature = (gg.features.grids || {})[found.grid.code];
      if (!feature) {
        try {
          feature = await gg.api("/collections/grids/items/" + found.grid.code + gg.query({}));
        } catch (err) {
          gg.showError(err, gg.t("err_unit", { code: found.grid.code }));
          return;
        }
      }
      draft.grids.set(found.grid.code, feature);
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
    const save = () => sessionStorage.setItem("gridgov.apiKey", input.value.trim());
    if (input) ["input", "change"].forEach((event) => input.addEventListener(event, save));
  }

  function showDraftForm() {
    const d = gg.draft;
    if (!d) return;
    const box = draftBox();
    const fromList = candidates(box);
    if (d.fromCode && !fromList.some((p) => p.code === d.fromCode)) fromList.unshift({ code: d.fromCode, name: communityName(d.fromCode) });
    let what;
    if (d.mode === "area") {
      what = gg.t("draft_area");
    } else {
      what = gg.t("draft_grids", { n: d.grids.size }) + '<ul class="gg-chips">' + Array.from(d.grids.values()).map((f) =>
        '<li data-code="' + gg.esc(f.properties.code) + '">' + gg.esc(gg.name(f.properties)) + "</li>").join("") + "</ul>";
    }
    const html = "<h2>" + gg.t("draft_title") + '</h2><p class="gg-sub">' + what + "</p>"
      + '<form id="gg-draft" class="gg-form">'
      + "<label>" + gg.t("from_community") + ' <select id="gg-from" required>' + options(fromList, d.fromCode, gg.t("choose")) + "</select></label>"
      + "<label>" + gg.t("to_community") + ' <select id="gg-to" required></select></label>'
      + "<label>" + gg.t("effective_date") + ' <input id="gg-date" type="date" required value="' + gg.today() + '"></label>'
      + "<label>" + gg.t("reason") + ' <textarea id="gg-reason" rows="2">' + gg.esc(gg.t("reason_default")) + "</textarea></label>"
      + "<label>" + gg.t("document_ref") + ' <input id="gg-docref" placeholder="' + gg.t("document_ref_hint") + '"></label>'
      + "<label>" + gg.t("author") + ' <input id="gg-author" value="' + gg.esc(localStorage.getItem("gridgov.author") || "") + '"></label>'
      + '<label class="gg-check"><input id="gg-nonadjacent" type="checkbox"> ' + gg.t("allow_non_adjacent") + "</label>"
      + keyField()
      + '<p id="gg-draft-error" class="gg-error" role="alert" hidden></p>'
      + '<div class="gg-actions"><button type="submit" id="gg-preview" class="gg-btn gg-primary">' + gg.t("preview") + "</button>"
      + '<button type="button" id="gg-draft-cancel" class="gg-btn">' + gg.t("cancel") + "</button></div>"
      + mergeButton(d) + gg.splitButton(d) + "</form>";
    const body = gg.panel.show(html, "draft");
    bindKeyField(body);
    const fromSelect = body.querySelector("#gg-from");
    const toSelect = body.querySelector("#gg-to");
    const fillTo = () => {
      d.fromCode = fromSelect.value || null;
      toSelect.innerHTML = options(d.fromCode ? neighbours(d.fromCode, box) : [], null, gg.t("choose_receiving"));
    };
    fromSelect.addEventListener("change", fillTo);
    fillTo();
    body.querySelector("#gg-draft-cancel").addEventListener("click", gg.clearDraft);
    const merge = body.querySelector("#gg-merge");
    if (merge) merge.addEventListener("click", () => submitDraft(body, "merge"));
    const split = body.querySelector("#gg-split");
    if (split) split.addEventListener("click", gg.startSplit);
    body.querySelector("#gg-draft").addEventListener("submit", (e) => {
      e.preventDefault();
      submitDraft(body);
    });
  }

  gg.keyField = keyField;
  gg.bindKeyField = bindKeyField;
  gg.formError = formError;

  gg.clearDraft = function () {
    gg.draft = null;
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

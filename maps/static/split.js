/* gridgov planner map: split one picked grid into new grids by drawing its parts (POST /proposals, kind split). */
"use strict";
window.gg = window.gg || {};
(function (gg) {
  /** The button under the picked grids: with exactly one grid picked, it can be split. */
  gg.splitButton = function (d) {
    if (d.mode !== "grids" || d.grids.size !== 1) return "";
    return '<p class="gg-muted">' + gg.t("split_button_hint") + '</p><div class="gg-actions"><button type="button" id="gg-split"'
      + ' class="gg-btn">' + gg.t("split_grid") + "</button></div>";
  };

  /** Start splitting the one picked grid: its parts are drawn with the polygon tool. */
  gg.startSplit = function () {
    const grid = gg.draft.grids.values().next().value;
    if (gg.state.tool === "grids") gg.setTool("grids"); // a click on the map now draws, it does not pick
    gg.layers.drawn.clearLayers();
    gg.draft = { mode: "split", grid: grid, fromCode: grid.properties.code };
    gg.layers.selection.clearLayers();
    const outline = gg.geoJSON(grid, { style: gg.config.styles.units.grid_picked, interactive: false }).addTo(gg.layers.selection);
    showSplitForm();
    const bounds = outline.getBounds(); // the grid being split fills the free part of the map
    if (bounds.isValid()) gg.fitFree(bounds.pad(0.1), { maxZoom: 18 });
  };

  /** A polygon drawn while splitting: one more part (Leaflet.draw put it in the drawn layer already). */
  gg.addSplitPart = function (layer) {
    if (!gg.layers.drawn.hasLayer(layer)) gg.layers.drawn.addLayer(layer);
    showSplitForm();
  };

  /** The drawn parts, as GeoJSON in the CRS of the screen (WGS84, or GCJ-02 over AMap tiles). */
  function parts() {
    return gg.layers.drawn.getLayers().map((l) => l.toGeoJSON().geometry);
  }

  /** The draw toolbar's polygon tool, as if its button was pressed (its "finish" and "cancel" appear too). */
  function drawPart() {
    const button = document.querySelector(".leaflet-draw-draw-polygon");
    if (button) button.click();
  }

  function showSplitForm() {
    const d = gg.draft;
    const layers = gg.layers.drawn.getLayers();
    const list = layers.length ? '<ol class="gg-parts">' + layers.map((l, i) => '<li data-part="' + (i + 1) + '">'
      + gg.t("split_part_n", { n: i + 1 }) + " · " + gg.num(L.GeometryUtil ? L.GeometryUtil.geodesicArea(l.getLatLngs()[0]) / 1e4 : null, 2)
      + ' ha <button type="button" class="gg-btn gg-small" data-remove="' + L.stamp(l) + '">' + gg.t("remove") + "</button></li>").join("")
      + "</ol>" : '<p class="gg-muted gg-parts-none">' + gg.t("split_none") + "</p>";
    const html = '<h2 data-split="' + gg.esc(d.fromCode) + '">' + gg.esc(gg.t("split_title", { name: gg.name(d.grid.properties) }))
      + '</h2><p class="gg-sub">' + gg.esc(d.fromCode) + "</p><p>" + gg.t("split_hint") + "</p>"
      + '<div class="gg-actions"><button type="button" id="gg-split-draw" class="gg-btn">' + gg.t("split_draw") + "</button></div>"
      + "<h3>" + gg.t("split_parts", { n: layers.length }) + "</h3>" + list
      + '<form id="gg-split-form" class="gg-form">'
      + "<label>" + gg.t("effective_date") + ' <input id="gg-date" type="date" required value="' + gg.today() + '"></label>'
      + "<label>" + gg.t("reason") + ' <textarea id="gg-reason" rows="2"></textarea></label>'
      + "<label>" + gg.t("document_ref") + ' <input id="gg-docref" placeholder="' + gg.t("document_ref_hint") + '"></label>'
      + "<label>" + gg.t("author") + ' <input id="gg-author" value="' + gg.esc(localStorage.getItem("gridgov.author") || "") + '"></label>'
      + gg.keyField() + '<p id="gg-draft-error" class="gg-error" role="alert" hidden></p>'
      + '<div class="gg-actions"><button type="submit" id="gg-preview" class="gg-btn gg-primary">' + gg.t("preview") + "</button>"
      + '<button type="button" id="gg-draft-cancel" class="gg-btn">' + gg.t("cancel") + "</button></div></form>";
    const body = gg.panel.show(html, "draft");
    gg.bindKeyField(body);
    body.querySelector("#gg-split-draw").addEventListener("click", drawPart);
    body.querySelectorAll("button[data-remove]").forEach((b) => b.addEventListener("click", () => {
      gg.layers.drawn.removeLayer(Number(b.dataset.remove));
      showSplitForm();
    }));
    body.querySelector("#gg-draft-cancel").addEventListener("click", gg.clearDraft);
    body.querySelector("#gg-split-form").addEventListener("submit", (e) => {
      e.preventDefault();
      submitSplit(body);
    });
  }
  gg.showSplitForm = showSplitForm;

  async function submitSplit(body) {
    const value = (id) => body.querySelector(id).value.trim();
    const drawn = parts();
    if (!drawn.length) {
      gg.formError(body, new Error(gg.t("err_split_parts")), gg.t("ctx_preview"));
      return;
    }
    const payload = {
      kind: "split", from_code: gg.draft.fromCode, parts: drawn, area_crs: gg.state.gcj ? "GCJ-02" : "EPSG:4326",
      effective_date: value("#gg-date"), reason: value("#gg-reason") || null, document_ref: value("#gg-docref") || null,
      author: value("#gg-author"),
    };
    if (payload.author) localStorage.setItem("gridgov.author", payload.author);
    const button = body.querySelector("#gg-preview");
    button.disabled = true;
    try {
      gg.current = await gg.api("/proposals", { method: "POST", body: payload });
      gg.clearErrors();
      gg.draft = null;
      gg.layers.drawn.clearLayers();
      gg.showPreview(gg.current);
      gg.refreshProposalsLayer();
    } catch (err) {
      gg.formError(body, err, gg.t("ctx_preview"));
    } finally {
      button.disabled = false;
    }
  }
})(window.gg);

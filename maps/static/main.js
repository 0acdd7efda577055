/* gridgov planner map: wiring (called by the page once folium has created the map). */
"use strict";
window.gg = window.gg || {};
(function (gg) {
  const TOOLS = [["nearest", "gg-tool-nearest"], ["grids", "gg-tool-grids"], ["brush", "gg-tool-brush"]];
  function setTool(tool) {
    gg.state.tool = gg.state.tool === tool ? null : tool;
    TOOLS.forEach(([name, id]) => {
      const button = document.getElementById(id);
      if (button) button.setAttribute("aria-pressed", String(gg.state.tool === name));
    });
    document.querySelectorAll("#gg-brush-here").forEach((b) => b.setAttribute("aria-pressed", String(gg.state.tool === "brush")));
    gg.map.getContainer().classList.toggle("gg-crosshair", !!gg.state.tool);
    gg.whatif.setBrush(gg.state.tool === "brush");
    if (gg.state.tool !== "nearest") gg.layers.nearest.clearLayers();
    if (gg.state.tool === "nearest") gg.showNearestForm();
    else if (gg.panel.kind() === "nearest") gg.panel.close();
    if (gg.state.tool === "grids") gg.notify(gg.t("hint_pick_grids"), "info");
    if (gg.state.tool === "brush") gg.notify(gg.t("hint_brush", { zoom: gg.config.zoom.grids }), "info");
  }
  gg.setTool = setTool;

  function onMapClick(e) {
    if (gg.state.drawing || gg.state.tool === "brush") return;
    const lonlat = gg.lonlat(e.latlng);
    if (gg.state.tool === "nearest") gg.nearest(lonlat);
    else if (gg.state.tool === "grids") gg.pickGrid(lonlat, e.originalEvent && e.originalEvent.timeStamp);
    else gg.inspect(lonlat);
  }

  // View in the URL (#zoom/lat/lon, WGS84, then &date=YYYY-MM-DD&panel=kind:id) so reloads, the language
  // switch and a link sent to a colleague show the same map on the same day with the same panel open.
  function readHash() {
    const m = /^#(\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)(?:&(.*))?$/.exec(location.hash);
    if (!m) return null;
    const extra = new URLSearchParams(m[4] || "");
    return { zoom: Number(m[1]), lat: Number(m[2]), lon: Number(m[3]), date: extra.get("date"), panel: extra.get("panel") };
  }
  /** What the open panel shows, as "kind:id" (unit:CODE, station:CODE, proposal:ID, proposals), or "". */
  function panelRef() {
    const kind = gg.panel.kind();
    const h2 = document.querySelector("#gg-panel h2");
    if (kind === "unit" && h2 && h2.dataset.code) return "unit:" + h2.dataset.code;
    if (kind === "station" && h2 && h2.dataset.code) return "station:" + h2.dataset.code;
    if (kind === "preview" && h2 && h2.dataset.proposal) return "proposal:" + h2.dataset.proposal;
    if (kind === "proposals") return "proposals";
    return "";
  }
  function writeHash() {
    const c = gg.lonlat(gg.map.getCenter());
    const extra = [];
    if (gg.state.asOf) extra.push("date=" + gg.state.asOf);
    const panel = panelRef();
    if (panel) extra.push("panel=" + encodeURIComponent(panel).replace(/%3A/gi, ":"));
    const tail = extra.join("&");
    const hash = "#" + gg.map.getZoom() + "/" + c[1].toFixed(5) + "/" + c[0].toFixed(5) + (tail ? "&" + tail : "");
    history.replaceState(null, "", location.pathname + location.search + hash);
    const link = document.getElementById("gg-lang");
    link.href = "?lang=" + encodeURIComponent(gg.config.otherLang) + hash;
  }
  gg.writeHash = writeHash;

  /** Open the panel named in the address ("unit:CODE", "proposal:ID", …). */
  async function openPanel(ref) {
    const [kind, id] = (ref || "").split(":");
    if (kind === "unit" && id) {
      const level = { 9: "subdistrict", 12: "community", 15: "grid" }[id.length] || "community";
      await gg.showUnit(level, id, { crumbs: [] });
    } else if (kind === "proposal" && id) await gg.openProposal(Number(id));
    else if (kind === "proposals") await gg.showProposals();
    else if (kind === "station" && id) {
      try {
        const f = await gg.api("/collections/stations/items/" + encodeURIComponent(id) + gg.query({}));
        gg.showStation(f);
      } catch (err) {
        gg.showError(err, gg.t("err_unit", { code: id }));
      }
    }
  }

  function initBaseLayers() {
    const bases = {};
    Object.entries(gg.config.baseLayers).forEach(([key, name]) => { bases[key] = gg.global(name); });
    gg.baseLayers = bases;
    let failures = 0;
    let successes = 0;
    const fallback = () => {
      const current = bases[gg.state.base];
      if (!current || gg.state.base === "blank") return;
      gg.map.removeLayer(current);
      bases.blank.addTo(gg.map);
      gg.notify(gg.t("tiles_failed"), "error");
    };
    Object.entries(bases).forEach(([key, layer]) => {
      const tiles = layer.getLayers ? layer.getLayers() : [layer];
      tiles.forEach((t) => {
        if (!t.on) return;
        t.on("tileerror", () => {
          if (gg.state.base !== key) return;
          failures += 1;
          if (failures >= 4 && successes === 0) fallback();
        });
        t.on("tileload", () => { successes += 1; });
      });
    });
    gg.map.on("baselayerchange", (e) => {
      const key = Object.keys(bases).find((k) => bases[k] === e.layer) || "blank";
      failures = 0;
      successes = 0;
      gg.state.base = key;
      gg.map.getContainer().dataset.base = key;
      localStorage.setItem("gridgov.base", key);
      const gcj = gg.config.gcjBaseLayers.includes(key);
      if (gcj !== gg.state.gcj) {
        gg.state.gcj = gcj;
        gg.layers.preview.clearLayers();
        gg.layers.drawn.clearLayers();
        gg.layers.nearest.clearLayers();
        gg.layers.rings.clearLayers();
        gg.layers.selection.clearLayers();
        gg.refreshLayers(true);
      }
    });
    gg.map.getContainer().dataset.base = "blank";
    const saved = localStorage.getItem("gridgov.base");
    if (saved && saved !== "blank" && bases[saved]) {
      gg.map.removeLayer(bases.blank);
      bases[saved].addTo(gg.map);
      gg.map.fire("baselayerchange", { layer: bases[saved], name: saved });
    }
  }

  function initAsOf() {
    const input = document.getElementById("gg-asof");
    input.value = gg.today();
    input.max = "9999-12-31";
    input.addEventListener("change", () => gg.setAsOf(input.value));
  }

  /** Show the map on `day` (YYYY-MM-DD; today or empty: the current map). A later day is a planned map. */
  gg.setAsOf = function (day, quiet) {
    const input = document.getElementById("gg-asof");
    input.value = day || gg.today();
    gg.state.asOf = day && day !== gg.today() ? day : null;
    const future = !!gg.state.asOf && gg.state.asOf > gg.today();
    document.body.classList.toggle("gg-history", !!gg.state.asOf && !future);
    document.body.classList.toggle("gg-future", future);
    document.body.dataset.asof = gg.state.asOf || "";
    document.getElementById("gg-status").textContent = "";
    if (gg.state.asOf && !quiet) gg.notify(gg.t(future ? "future_view" : "history_view", { date: gg.state.asOf }), "info");
    gg.layers.nearest.clearLayers();
    gg.layers.selection.clearLayers();
    writeHash();
    return gg.refreshLayers(true);
  };

  gg.init = function (config) {
    gg.config = config;
    gg.config.features = gg.config.features || {};
    gg.map = gg.global(config.map);
    gg.layers = {};
    Object.entries(config.layers).forEach(([key, name]) => { gg.layers[key] = gg.global(name); });
    gg.layerControl = gg.global(config.layerControl);
    // Above the unit layers, below the markers: selection, preview, life circles, nearest lines.
    gg.map.createPane("ggTop").style.zIndex = 450;
    gg.map.createPane("ggGrids").style.zIndex = 405;
    const outline = gg.map.createPane("ggOutline");
    outline.style.zIndex = 410;
    outline.style.pointerEvents = "none";
    // The layer list opens from its button unless the screen has room for it beside the tools and the legend.
    if ((window.innerWidth < 1280 || window.innerHeight < 800) && gg.layerControl) {
      gg.layerControl.remove();
      gg.layerControl.options.collapsed = true;
      gg.layerControl.addTo(gg.map);
    }
    gg.map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    gg.map.attributionControl.addAttribution(gg.t("attribution"));

    const view = readHash();
    if (view && view.date && /^\d{4}-\d{2}-\d{2}$/.test(view.date) && view.date !== gg.today()) {
      gg.state.asOf = view.date;
      document.body.classList.toggle(view.date > gg.today() ? "gg-future" : "gg-history", true);
      document.body.dataset.asof = view.date;
    }
    // Without animation: the first layers must be asked for at the final zoom, not at folium's initial one.
    if (view) gg.map.setView([view.lat, view.lon], view.zoom, { animate: false });
    else gg.map.fitBounds(gg.bounds(config.extent), { padding: [10, 10], animate: false });

    initBaseLayers();
    initAsOf();
    if (gg.state.asOf) document.getElementById("gg-asof").value = gg.state.asOf;
    gg.whatif.initBrush();
    gg.addLegend();
    gg.initSearch();
    document.getElementById("gg-tool-nearest").addEventListener("click", () => setTool("nearest"));
    document.getElementById("gg-tool-grids").addEventListener("click", () => setTool("grids"));
    document.getElementById("gg-tool-brush").addEventListener("click", () => setTool("brush"));
    document.getElementById("gg-tool-proposals").addEventListener("click", () => gg.showProposals());
    document.getElementById("gg-tool-balance").addEventListener("click", () => gg.showBalance());
    document.getElementById("gg-panel-close").addEventListener("click", () => gg.panel.close());
    document.getElementById("gg-tool-proposals").hidden = !gg.config.features.proposals;
    document.getElementById("gg-tool-grids").hidden = !gg.config.features.proposals;
    document.getElementById("gg-tool-brush").hidden = !gg.config.features.proposals;
    document.getElementById("gg-tool-balance").hidden = !(gg.config.features.balance || gg.config.features.grid_splits);

    gg.map.on("click", onMapClick);
    gg.map.on("overlayadd", (e) => gg.onOverlayAdd(e.layer));
    gg.map.on("overlayadd overlayremove", () => gg.showHeatScale(undefined));
    gg.map.on("draw:drawstart", () => { gg.state.drawing = true; });
    gg.map.on("draw:drawstop", () => { setTimeout(() => { gg.state.drawing = false; }, 0); });
    gg.map.on("draw:created", (e) => (gg.draft && gg.draft.mode === "split" ? gg.addSplitPart : gg.onDrawn)(e.layer));
    gg.map.on("draw:deleted", () => {
      if (gg.draft && gg.draft.mode === "area") gg.clearDraft();
      else if (gg.draft && gg.draft.mode === "split") gg.showSplitForm();
    });
    let timer = null;
    gg.map.on("moveend", () => {
      writeHash();
      clearTimeout(timer);
      timer = setTimeout(() => gg.refreshLayers(false), 120);
    });
    writeHash();
    if (gg.groups) gg.groups.start(); // residents' groups at high zoom (groups.js)

    // Interactive once every first layer is drawn; the /load figures (when the API has them) restyle the
    // communities when they arrive: until then they are coloured by their own residents / workers.
    new MutationObserver(() => writeHash()).observe(document.getElementById("gg-panel"),
      { attributes: true, attributeFilter: ["hidden", "data-kind"] });
    gg.ready = gg.refreshLayers(true).then(() => {
      performance.mark("gg-interactive");
      document.body.dataset.ready = "1";
      if (view && view.panel) return openPanel(view.panel).then(writeHash);
      return undefined;
    });
    gg.complete = Promise.all([gg.ready, gg.loadPromise]).then(() => {
      performance.mark("gg-complete");
      document.body.dataset.complete = "1";
    });
    return gg.ready;
  };
})(window.gg);

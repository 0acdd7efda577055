/* gridgov planner map: wiring (called by the page once folium has created the map). */
"use strict";
window.gg = window.gg || {};
(function (gg) {
  function setTool(tool) {
    gg.state.tool = gg.state.tool === tool ? null : tool;
    [["nearest", "gg-tool-nearest"], ["grids", "gg-tool-grids"]].forEach(([name, id]) => {
      document.getElementById(id).setAttribute("aria-pressed", String(gg.state.tool === name));
    });
    gg.map.getContainer().classList.toggle("gg-crosshair", !!gg.state.tool);
    if (gg.state.tool !== "nearest") gg.layers.nearest.clearLayers();
    if (gg.state.tool === "grids") gg.notify(gg.t("hint_pick_grids"), "info");
  }
  gg.setTool = setTool;

  function onMapClick(e) {
    if (gg.state.drawing) return;
    const lonlat = gg.lonlat(e.latlng);
    if (gg.state.tool === "nearest") gg.nearest(lonlat);
    else if (gg.state.tool === "grids") gg.pickGrid(lonlat);
    else gg.inspect(lonlat);
  }

  // View in the URL (#zoom/lat/lon, WGS84) so reloads and the language switch keep it.
  function readHash() {
    const m = /^#(\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)/.exec(location.hash);
    return m ? { zoom: Number(m[1]), lat: Number(m[2]), lon: Number(m[3]) } : null;
  }
  function writeHash() {
    const c = gg.lonlat(gg.map.getCenter());
    const hash = "#" + gg.map.getZoom() + "/" + c[1].toFixed(5) + "/" + c[0].toFixed(5);
    history.replaceState(null, "", location.pathname + location.search + hash);
    const link = document.getElementById("gg-lang");
    link.href = "?lang=" + encodeURIComponent(gg.config.otherLang) + hash;
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
    input.addEventListener("change", () => {
      const day = input.value;
      gg.state.asOf = day && day !== gg.today() ? day : null;
      document.body.classList.toggle("gg-history", !!gg.state.asOf);
      document.getElementById("gg-status").textContent = "";
      if (gg.state.asOf) gg.notify(gg.t("history_view", { date: gg.state.asOf }), "info");
      gg.layers.nearest.clearLayers();
      gg.layers.selection.clearLayers();
      gg.refreshLayers(true);
    });
  }

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
    if (window.innerWidth < 1000 && gg.layerControl) { // tablets: the layer list opens from its button
      gg.layerControl.remove();
      gg.layerControl.options.collapsed = true;
      gg.layerControl.addTo(gg.map);
    }
    gg.map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    gg.map.attributionControl.addAttribution(gg.t("attribution"));

    const view = readHash();
    // Without animation: the first layers must be asked for at the final zoom, not at folium's initial one.
    if (view) gg.map.setView([view.lat, view.lon], view.zoom, { animate: false });
    else gg.map.fitBounds(gg.bounds(config.extent), { padding: [10, 10], animate: false });

    initBaseLayers();
    initAsOf();
    gg.addLegend();
    gg.initSearch();
    document.getElementById("gg-tool-nearest").addEventListener("click", () => setTool("nearest"));
    document.getElementById("gg-tool-grids").addEventListener("click", () => setTool("grids"));
    document.getElementById("gg-tool-proposals").addEventListener("click", () => gg.showProposals());
    document.getElementById("gg-tool-balance").addEventListener("click", () => gg.showBalance());
    document.getElementById("gg-panel-close").addEventListener("click", () => gg.panel.close());
    document.getElementById("gg-tool-proposals").hidden = !gg.config.features.proposals;
    document.getElementById("gg-tool-grids").hidden = !gg.config.features.proposals;
    document.getElementById("gg-tool-balance").hidden = !(gg.config.features.balance || gg.config.features.grid_splits);

    gg.map.on("click", onMapClick);
    gg.map.on("overlayadd", (e) => gg.onOverlayAdd(e.layer));
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
    gg.ready = gg.refreshLayers(true).then(() => {
      performance.mark("gg-interactive");
      document.body.dataset.ready = "1";
    });
    gg.complete = Promise.all([gg.ready, gg.loadPromise]).then(() => {
      performance.mark("gg-complete");
      document.body.dataset.complete = "1";
    });
    return gg.ready;
  };
})(window.gg);

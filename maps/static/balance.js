/* gridgov planner map: load balancing (POST /balance, /balance/apply) and grid sizes (POST /grid-splits). */
"use strict";
window.gg = window.gg || {};
(function (gg) {
  gg.balance = { result: null, plan: null, settings: null }; // the last answers, shown again when the panel reopens
  const gridCache = new Map(); // grid code -> GeoJSON feature (for highlighting a move's grids)

  // ---- the form --------------------------------------------------------------------------------
  /** The sub-district of the unit in the panel, else of the map's centre (asks /locate). */
  async function defaultSubdistrict() {
    const subs = gg.features.subdistricts || {};
    const shown = gg.panel.kind() === "unit" ? document.querySelector("#gg-panel h2[data-code]") : null;
    const code = shown ? shown.dataset.code : "";
    const own = Object.keys(subs).find((s) => code.startsWith(s));
    if (own) return own;
    const centre = gg.lonlat(gg.map.getCenter());
    try {
      const found = await gg.api("/locate" + gg.query({ lon: centre[0].toFixed(6), lat: centre[1].toFixed(6) }));
      return found.subdistrict ? found.subdistrict.code : "";
    } catch (err) {
      return ""; // outside every unit: all sub-districts
    }
  }

  function field(id, label, input) {
    return "<label>" + label + " " + input.replace("<input ", '<input id="' + id + '" ') + "</label>";
  }

  const RELAX = ["keep_in_band", "no_further", "receiver_cap"]; // the optimiser's guarantees, by name

  function formHtml(s) {
    const subs = Object.values(gg.features.subdistricts || {}).map((f) => f.properties)
      .sort((a, b) => a.code.localeCompare(b.code));
    const choices = '<option value="">' + gg.t("all_subdistricts") + "</option>" + subs.map((p) => '<option value="'
      + gg.esc(p.code) + '"' + (p.code === s.subdistrict ? " selected" : "") + ">" + gg.esc(gg.name(p)) + " · " + gg.esc(p.code)
      + "</option>").join("");
    const num = (v) => (v === null || v === undefined ? "" : gg.esc(v));
    return "<h2>" + gg.t("balance_title") + '</h2><p class="gg-sub">' + gg.t("balance_hint") + "</p>"
      + '<form id="gg-balance" class="gg-form" novalidate>'
      + "<label>" + gg.t("level_subdistrict") + ' <select id="gg-bal-sub">' + choices + "</select></label>"
      + field("gg-bal-tol", gg.t("tolerance_pct"), '<input type="number" min="1" max="99" step="1" value="' + num(s.tolerance) + '">')
      + field("gg-bal-maxlost", gg.t("max_grids_lost"), '<input type="number" min="0" step="1" value="' + num(s.maxLost) + '">')
      + '<label class="gg-check"><input id="gg-bal-cross" type="checkbox"' + (s.cross ? " checked" : "") + "> "
      + gg.t("cross_subdistrict") + "</label>"
      + '<div class="gg-pair">'
      + field("gg-bal-min", gg.t("min_households"), '<input type="number" min="0" step="1" value="' + num(s.minHouseholds) + '">')
      + field("gg-bal-max", gg.t("max_households"), '<input type="number" min="1" step="1" value="' + num(s.maxHouseholds) + '">')
      + "</div><details" + (s.more ? " open" : "") + "><summary>" + gg.t("more_settings") + "</summary>"
      + field("gg-bal-norm", gg.t("balance_norm"), '<input type="number" min="1" step="any" value="' + num(s.norm) + '">')
      + field("gg-bal-required", gg.t("required_codes"), '<input type="text" value="' + num(s.required) + '">')
      + field("gg-bal-date", gg.t("effective_date"), '<input type="date" value="' + num(s.date) + '">')
      + field("gg-bal-carry", gg.t("workers_per_move"), '<input type="number" min="0" step="1" value="' + num(s.workersPerMove) + '">')
      + field("gg-bal-new", gg.t("new_workers"), '<input type="number" min="0" step="1" value="' + num(s.newWorkers) + '">')
      + '<div class="gg-pair">'
      + field("gg-bal-vmin", gg.t("village_min_households"), '<input type="number" min="0" step="1" value="' + num(s.villageMin) + '">')
      + field("gg-bal-vmax", gg.t("village_max_households"), '<input type="number" min="1" step="1" value="' + num(s.villageMax) + '">')
      + "</div><fieldset><legend>" + gg.t("relax_title") + "</legend>" + RELAX.map((r) => '<label class="gg-check"><input type="checkbox" '
      + 'class="gg-bal-relax" value="' + r + '"' + ((s.relax || []).includes(r) ? " checked" : "") + "> " + gg.t("relax_" + r)
      + "</label>").join("") + "</fieldset>"
      + "</details>" + gg.keyField()
      + '<p id="gg-balance-error" class="gg-error" role="alert" hidden></p>'
      + '<div class="gg-actions"><button type="submit" id="gg-suggest" class="gg-btn gg-primary">' + gg.t("suggest_moves")
      + '</button><button type="button" id="gg-grid-sizes" class="gg-btn">' + gg.t("grid_sizes")
      + '</button><button type="button" id="gg-staffing" class="gg-btn">' + gg.t("staffing_button") + "</button></div></form>"
      + '<div id="gg-balance-result"></div>';
  }

  function readForm(body) {
    const value = (id) => body.querySelector(id).value.trim();
    const s = {
      subdistrict: value("#gg-bal-sub"), tolerance: value("#gg-bal-tol"), maxLost: value("#gg-bal-maxlost"),
      cross: body.querySelector("#gg-bal-cross").checked, norm: value("#gg-bal-norm"), required: value("#gg-bal-required"),
      minHouseholds: value("#gg-bal-min"), maxHouseholds: value("#gg-bal-max"), date: value("#gg-bal-date"),
      more: body.querySelector("#gg-balance details").open,
      workersPerMove: value("#gg-bal-carry"), newWorkers: value("#gg-bal-new"), villageMin: value("#gg-bal-vmin"),
      villageMax: value("#gg-bal-vmax"),
      relax: Array.from(body.querySelectorAll(".gg-bal-relax")).filter((c) => c.checked).map((c) => c.value),
    };
    gg.balance.settings = s;
    return s;
  }

  /** Numbers as typed (the API judges them and names a bad field); empty optional ones left out. */
  const number = (text) => (text === "" ? undefined : Number(text));

  function balanceBody(s) {
    return {
      subdistricts: s.subdistrict ? [s.subdistrict] : [], tolerance: number(s.tolerance) / 100,
      max_grids_lost: number(s.maxLost), cross_subdistrict: s.cross, norm: number(s.norm),
      required: s.required ? s.required.split(/[\s,，、;；]+/).filter(Boolean) : [], effective_date: s.date || undefined,
      draft: true, workers_per_move: number(s.workersPerMove), new_workers: number(s.newWorkers), relax: s.relax,
    };
  }

  function gridSizesBody(s) {
    return { subdistricts: s.subdistrict ? [s.subdistrict] : [], min_households: number(s.minHouseholds),
      max_households: number(s.maxHouseholds), effective_date: s.date || undefined,
      village_min_households: number(s.villageMin), village_max_households: number(s.villageMax) };
  }

  gg.showBalance = async function () {
    if (!gg.balance.settings) {
      gg.balance.settings = { subdistrict: await defaultSubdistrict(), tolerance: 20, maxLost: "", cross: false, norm: 18,
        required: "", minHouseholds: 300, maxHouseholds: 500, date: gg.today(), workersPerMove: 0, newWorkers: 0,
        villageMin: (gg.config.styles.villageBand || {}).min, villageMax: (gg.config.styles.villageBand || {}).max, relax: [] };
    }
    const body = gg.panel.show(formHtml(gg.balance.settings), "balance");
    gg.bindKeyField(body);
    body.querySelector("#gg-balance").addEventListener("submit", (e) => {
      e.preventDefault();
      suggest(body);
    });
    body.querySelector("#gg-grid-sizes").addEventListener("click", () => gridSizes(body));
    body.querySelector("#gg-staffing").addEventListener("click", () => staffing(body));
    if (gg.balance.result) showResult(body, gg.balance.result);
    else if (gg.balance.plan) showPlan(body, gg.balance.plan);
  };

  async function run(body, button, work, context) {
    const error = body.querySelector("#gg-balance-error");
    error.hidden = true;
    button.disabled = true;
    try {
      await work();
      gg.clearErrors();
    } catch (err) {
      gg.formError(body, err, context);
    } finally {
      button.disabled = false;
    }
  }

  async function suggest(body) {
    const s = readForm(body);
    await run(body, body.querySelector("#gg-suggest"), async () => {
      body.querySelector("#gg-balance-result").innerHTML = "";
      gg.balance.result = null;
      gg.balance.plan = null;
      gg.balance.result = await gg.api("/balance", { method: "POST", body: balanceBody(s) });
      showResult(body, gg.balance.result);
      gg.refreshProposalsLayer(); // the drafts join the pending proposals
    }, gg.t("ctx_balance"));
  }

  async function gridSizes(body) {
    const s = readForm(body);
    await run(body, body.querySelector("#gg-grid-sizes"), async () => {
      body.querySelector("#gg-balance-result").innerHTML = "";
      gg.balance.result = null;
      gg.balance.plan = null;
      gg.balance.plan = await gg.api("/grid-splits", { method: "POST", body: gridSizesBody(s) });
      showPlan(body, gg.balance.plan);
    }, gg.t("ctx_grid_sizes"));
  }

  /** POST /staffing: the new workers where they lower the worst load most (the form's "new workers"). */
  async function staffing(body) {
    const s = readForm(body);
    await run(body, body.querySelector("#gg-staffing"), async () => {
      const answer = await gg.api("/staffing", { method: "POST", body: {
        new_workers: number(s.newWorkers) || 0, subdistricts: s.subdistrict ? [s.subdistrict] : [],
        tolerance: number(s.tolerance) / 100, norm: number(s.norm), only_allocated: true } });
      const target = body.querySelector("#gg-balance-result");
      target.innerHTML = staffingHtml(answer);
      target.scrollIntoView({ block: "start" });
    }, gg.t("staffing_button"));
  }

  function staffingHtml(st) {
    if (!st || !(st.communities || []).length) return "";
    return "<h4>" + gg.t("staffing_title") + '</h4><ul class="gg-staffing">' + st.communities.map((c) => "<li>"
      + gg.t("staffing_row", { name: gg.esc(c.name || c.code), before: gg.num(c.workers_before), after: gg.num(c.workers_after),
        n: gg.num(c.new_workers) }) + "</li>").join("") + "</ul>";
  }

  /** The plan in one sentence, and the shortfall no boundary fixes (per sub-district and district). */
  function planHtml(r) {
    const lang = gg.lang && gg.lang.startsWith("en") ? "en" : "zh";
    let html = "";
    if (r.plan) html += "<h4>" + gg.t("plan_title") + '</h4><p class="gg-plan">' + gg.esc(r.plan[lang]) + "</p>";
    if ((r.shortfall || []).length) {
      html += "<h4>" + gg.t("shortfall_title") + '</h4><ul class="gg-shortfall">' + r.shortfall.map((x) => '<li data-short="'
        + gg.num(x.shortfall) + '">' + gg.esc(x.message[lang]) + "</li>").join("") + "</ul>";
    }
    html += staffingHtml(r.staffing);
    if ((r.skipped || []).length) {
      html += "<h4>" + gg.t("skipped_title") + '</h4><ul class="gg-warnings">' + r.skipped.map((x) => "<li>" + gg.esc(x.from_code)
        + (x.to_code ? " → " + gg.esc(x.to_code) : "") + ": " + gg.esc(x.reason) + "</li>").join("") + "</ul>";
    }
    return html;
  }

  // ---- the solver's answer ---------------------------------------------------------------------
  const pct = (x) => gg.num(x * 100, 1);
  const arrow = (a, b) => gg.num(a) + " → " + gg.num(b);

  function statusHtml(r) {
    const gaps = (r.solves || []).map((x) => x.gap || 0);
    const text = r.status === "time_limit" ? gg.t("solver_time_limit", { gap: pct(Math.max(0, ...gaps)) }) : gg.t("solver_optimal");
    return '<p class="gg-solver" data-status="' + gg.esc(r.status) + '">' + text + "</p>";
  }

  function solvesHtml(solves) {
    if (solves.length < 2) return "";
    return "<h4>" + gg.t("solves_title") + '</h4><table class="gg-table gg-solves"><tr><th>' + gg.t("level_subdistrict")
      + "</th><th>" + gg.t("out_of_tolerance") + "</th><th>" + gg.t("gap") + "</th></tr>" + solves.map((x) => "<tr><th>"
      + x.subdistricts.map((c) => gg.esc(subName(c))).join(gg.t("list_sep")) + "</th><td>"
      + arrow(x.out_of_tolerance_before, x.out_of_tolerance) + " <small>(" + gg.t("bound") + " " + gg.num(x.out_of_tolerance_bound)
      + ")</small></td><td>" + (x.status === "time_limit" ? pct(x.gap) + "%" : gg.t("solver_optimal_short")) + "</td></tr>").join("")
      + "</table>";
  }
  const subName = (code) => { const f = (gg.features.subdistricts || {})[code]; return f ? gg.name(f.properties) : code; };

  function movesHtml(moves) {
    if (!moves.length) return '<p class="gg-muted gg-no-moves">' + gg.t("balance_no_moves") + "</p>";
    return '<ol class="gg-moves">' + moves.map((m, i) => '<li data-index="' + i + '" data-proposal="' + (m.proposal_id || "")
      + '" tabindex="0"><b>' + gg.esc(m.from_name) + " → " + gg.esc(m.to_name) + "</b>"
      + (m.proposal_id ? ' <small class="gg-muted">' + gg.t("proposal_n", { id: m.proposal_id }) + "</small>" : "")
      + "<br><small>" + gg.t("move_grids", { n: m.grid_codes.length }) + "（" + m.grid_codes.map(gg.esc).join(gg.t("list_sep"))
      + "）· " + gg.t("move_residents", { n: gg.num(m.residents) })
      + (m.workers_moved ? " · " + gg.t("workers_moved_n", { n: gg.num(m.workers_moved) }) : "") + "</small></li>").join("") + "</ol>";
  }

  function communitiesHtml(rows) {
    if (!rows.length) return "";
    const flag = (f) => '<span class="gg-verdict-' + gg.esc(f) + '">' + gg.t("flag_" + f) + "</span>";
    return "<h4>" + gg.t("communities_changed") + '</h4><div class="gg-scroll"><table class="gg-table gg-bal-communities"><tr><th>'
      + gg.t("name") + "</th><th>" + gg.t("residents") + "</th><th>" + gg.t("ratio") + "</th></tr>" + rows.map((c) => '<tr data-code="'
      + gg.esc(c.code) + '"><th>' + gg.esc(c.name || c.code) + "</th><td>" + arrow(c.residents_before, c.residents_after)
      + "</td><td>" + pct(c.ratio_before) + "% " + flag(c.flag_before) + " → " + pct(c.ratio_after) + "% " + flag(c.flag_after)
      + "</td></tr>").join("") + "</table></div>";
  }

  function showResult(body, r) {
    const s = r.summary || {};
    const ids = (r.moves || []).map((m) => m.proposal_id).filter(Boolean);
    let html = "<h3>" + gg.t("balance_result") + "</h3>" + statusHtml(r) + gg.table([
      [gg.t("within_tolerance"), arrow(s.within_before, s.within_after) + " / " + gg.num(s.communities), "gg-within"],
      [gg.t("over_tolerance"), arrow(s.over_before, s.over_after)], [gg.t("under_tolerance"), arrow(s.under_before, s.under_after)],
      [gg.t("moved"), gg.t("moved_summary", { moves: gg.num(s.moves), grids: gg.num(s.moved_grids), residents: gg.num(s.moved_residents) })],
    ]) + solvesHtml(r.solves || []);
    html += "<h4>" + gg.t("balance_moves", { n: (r.moves || []).length }) + "</h4>" + movesHtml(r.moves || []);
    html += communitiesHtml(r.communities || []) + planHtml(r);
    if ((r.warnings || []).length) html += '<ul class="gg-warnings">' + r.warnings.map((w) => "<li>" + gg.esc(w) + "</li>").join("") + "</ul>";
    if (ids.length) {
      html += '<div class="gg-actions"><button type="button" id="gg-apply-all" class="gg-btn gg-primary">' + gg.t("apply_all")
        + '</button><button type="button" id="gg-open-proposals" class="gg-btn">' + gg.t("open_proposals") + "</button></div>";
    }
    const target = body.querySelector("#gg-balance-result");
    target.innerHTML = html;
    target.scrollIntoView({ block: "start" });
    target.querySelectorAll(".gg-moves li").forEach((li) => {
      const move = r.moves[Number(li.dataset.index)];
      li.addEventListener("mouseenter", () => highlightGrids(move.grid_codes, false));
      li.addEventListener("focus", () => highlightGrids(move.grid_codes, false));
      li.addEventListener("mouseleave", () => gg.layers.selection.clearLayers());
      li.addEventListener("click", () => highlightGrids(move.grid_codes, true));
    });
    const apply = target.querySelector("#gg-apply-all");
    if (apply) apply.addEventListener("click", () => confirmApply(body, apply, ids));
    const open = target.querySelector("#gg-open-proposals");
    if (open) open.addEventListener("click", () => gg.showProposals(ids[0]));
  }

  async function gridFeature(code) {
    if (!gridCache.has(code)) {
      const f = (gg.features.grids || {})[code] || await gg.api("/collections/grids/items/" + encodeURIComponent(code) + gg.query({}));
      gridCache.set(code, f);
    }
    return gridCache.get(code);
  }

  /** Draw a move's grids on the map (and, on a click, bring them into view). */
  async function highlightGrids(codes, fit) {
    let features;
    try {
      features = await Promise.all(codes.map(gridFeature));
    } catch (err) {
      gg.showError(err, gg.t("err_unit", { code: codes.join(gg.t("list_sep")) }));
      return;
    }
    const group = gg.layers.selection;
    group.clearLayers();
    const layer = gg.geoJSON({ type: "FeatureCollection", features: features },
      { style: gg.config.styles.units.grid_picked, interactive: false, pane: "ggTop" }).addTo(group);
    if (fit && layer.getBounds().isValid()) gg.fitFree(layer.getBounds().pad(0.5));
  }

  function confirmApply(body, button, ids) {
    if (button.dataset.confirm !== "1") {
      button.dataset.confirm = "1";
      button.textContent = gg.t("apply_all_confirm", { n: ids.length });
      return;
    }
    run(body, button, async () => {
      const done = await gg.api("/balance/apply", { method: "POST", body: { proposal_ids: ids } });
      gg.notify(gg.t("balance_applied", { n: done.applied.length }), "success");
      (done.skipped || []).forEach((x) => gg.notify(gg.t("proposal_n", { id: x.proposal_id }) + ": " + x.reason, "error"));
      (done.applied || []).filter((a) => a.note).forEach((a) => gg.notify(a.note, "info"));
      button.remove();
      body.querySelectorAll(".gg-moves li").forEach((li) => { li.dataset.status = "applied"; });
      gridCache.clear();
      await gg.refreshLayers(true);
    }, gg.t("ctx_apply_all"));
  }

  // ---- grid sizes ------------------------------------------------------------------------------
  function showPlan(body, plan) {
    const band = plan.band || {};
    const parts = (s) => s.parts.map((p) => gg.num(p.households)).join(" + ");
    const gridName = (code) => { const f = (gg.features.grids || {})[code]; return f ? gg.name(f.properties) + " " + code : code; };
    let html = "<h3>" + gg.t("grid_sizes_title", { min: gg.num(band.min_households), max: gg.num(band.max_households),
      n: gg.num(plan.grids) }) + "</h3>";
    html += "<h4>" + gg.t("grid_splits_n", { n: plan.splits.length }) + '</h4><ol class="gg-splits">' + plan.splits.map((s, i) =>
      '<li data-index="' + i + '" data-code="' + gg.esc(s.grid_code) + '" data-proposal="' + (s.proposal_id || "") + '">'
      + gg.esc(gridName(s.grid_code)) + "<br><small>" + gg.t("split_line", { households: gg.num(s.households), parts: parts(s) })
      + (s.within_band ? "" : ' · <span class="gg-warn">' + gg.t("outside_band") + "</span>") + (s.note ? " · " + gg.esc(s.note) : "")
      + (s.proposal_id ? " · " + gg.t("proposal_n", { id: s.proposal_id }) : "") + "</small></li>").join("") + "</ol>";
    html += "<h4>" + gg.t("grid_merges_n", { n: plan.merges.length }) + '</h4><ol class="gg-merges">' + plan.merges.map((m, i) =>
      '<li tabindex="0" data-index="' + i + '" data-proposal="' + (m.proposal_id || "") + '">' + m.grid_codes.map((c) => gg.esc(gridName(c))).join(gg.t("list_sep"))
      + "<br><small>" + gg.t("merge_line", { households: gg.num(m.households) })
      + (m.within_band ? "" : ' · <span class="gg-warn">' + gg.t("outside_band") + "</span>")
      + (m.proposal_id ? " · " + gg.t("proposal_n", { id: m.proposal_id }) : "") + "</small></li>").join("") + "</ol>";
    if (!plan.splits.length && !plan.merges.length) html += '<p class="gg-muted">' + gg.t("grid_sizes_none") + "</p>";
    const stored = plan.splits.concat(plan.merges).some((x) => x.proposal_id);
    if (!stored && (plan.splits.length || plan.merges.length)) {
      html += '<div class="gg-actions"><button type="button" id="gg-store-drafts" class="gg-btn gg-primary">' + gg.t("store_drafts")
        + "</button></div>";
    }
    const target = body.querySelector("#gg-balance-result");
    target.innerHTML = html;
    target.scrollIntoView({ block: "start" });
    drawParts(plan);
    const store = target.querySelector("#gg-store-drafts");
    if (store) {
      store.addEventListener("click", () => run(body, store, async () => {
        gg.balance.plan = await gg.api("/grid-splits/drafts", { method: "POST", body: gridSizesBody(gg.balance.settings) });
        showPlan(body, gg.balance.plan);
        gg.notify(gg.t("drafts_stored", { n: gg.balance.plan.splits.length + gg.balance.plan.merges.length }), "success");
        gg.refreshProposalsLayer();
      }, gg.t("ctx_grid_sizes")));
    }
    target.querySelectorAll(".gg-merges li").forEach((li) => {  // a merge: its grids drawn and brought into view
      const codes = plan.merges[Number(li.dataset.index)].grid_codes;
      li.addEventListener("mouseenter", () => highlightGrids(codes, false));
      li.addEventListener("click", () => highlightGrids(codes, true));
    });
    if ((plan.skipped || []).length) {
      target.insertAdjacentHTML("beforeend", "<h4>" + gg.t("skipped_title") + '</h4><ul class="gg-warnings">' + plan.skipped.map((x) =>
        "<li>" + gg.esc(x.from_code) + ": " + gg.esc(x.reason) + "</li>").join("") + "</ul>");
    }
    target.querySelectorAll(".gg-splits li").forEach((li) => li.addEventListener("click", () => {
      const b = gg.geoJSON({ type: "FeatureCollection", features: plan.splits[Number(li.dataset.index)].parts.map(partFeature) }).getBounds();
      if (b.isValid()) gg.fitFree(b.pad(0.5));
    }));
  }

  const partFeature = (p) => ({ type: "Feature", geometry: p.geometry, properties: { households: p.households } });

  /** The suggested parts on the map, each with its households. */
  function drawParts(plan) {
    const group = gg.layers.preview;
    group.clearLayers();
    const features = plan.splits.flatMap((s) => s.parts.map(partFeature));
    if (!features.length) return;
    gg.geoJSON({ type: "FeatureCollection", features: features }, {
      style: gg.config.styles.units.created, pane: "ggTop",
      onEachFeature: (f, l) => l.bindTooltip(gg.t("split_part_households", { n: gg.num(f.properties.households) }), { sticky: true }),
    }).addTo(group);
  }
})(window.gg);

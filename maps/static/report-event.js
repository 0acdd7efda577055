/* The mobile report page (随手拍): a place (tap or geolocation), a category, a text; POST /events.
   One client id per report, so sending again after a lost answer never files it twice. */
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const state = { lonlat: null, clientId: newId() };
  const map = L.map("map", { zoomControl: true }).setView([26.2455, 105.9437], 14);
  L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    { maxZoom: 19, attribution: "&copy; OpenStreetMap contributors" }).addTo(map);
  const marker = L.marker([0, 0]);

  function newId() {
    if (window.crypto && crypto.randomUUID) return "web-" + crypto.randomUUID();
    return "web-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function say(text, kind) {
    const box = $("message");
    box.textContent = text;
    box.className = kind;
  }

  async function api(path, options) {
    const response = await fetch(path, options);
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const err = data && data.error ? data.error : { message: "HTTP " + response.status };
      throw new Error(err.message + (err.field ? " [" + err.field + "]" : ""));
    }
    return data;
  }

  async function choose(lon, lat) {
    state.lonlat = [lon, lat];
    marker.setLatLng([lat, lon]).addTo(map);
    $("place").textContent = lon.toFixed(5) + ", " + lat.toFixed(5);
    try {
      const found = await api("/locate?lon=" + lon.toFixed(6) + "&lat=" + lat.toFixed(6));
      const parts = ["subdistrict", "community", "grid"].map((k) => found[k] && found[k].name).filter(Boolean);
      $("place").textContent = parts.join(" · ");
    } catch (err) {
      $("place").textContent = "该位置不在服务范围内 / outside the area served: " + err.message;
    }
  }

  map.on("click", (e) => choose(e.latlng.lng, e.latlng.lat));
  $("locate").addEventListener("click", () => {
    if (!navigator.geolocation) { say("此浏览器无法定位 / no geolocation in this browser", "error"); return; }
    navigator.geolocation.getCurrentPosition((pos) => {
      map.setView([pos.coords.latitude, pos.coords.longitude], 17);
      choose(pos.coords.longitude, pos.coords.latitude);
    }, (err) => say("定位失败，请在地图上点选 / location failed, tap the map: " + err.message, "error"),
    { enableHighAccuracy: true, timeout: 10000 });
  });

  api("/events/categories").then((cat) => {
    cat.categories.forEach((c) => {
      const option = document.createElement("option");
      option.value = c.code;
      option.textContent = c.name + " / " + c.name_en;
      $("category").appendChild(option);
    });
  }).catch((err) => say(err.message, "error"));

  $("report").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!state.lonlat) { say("请先在地图上点选位置 / tap the map first", "error"); return; }
    if (!$("description").value.trim()) { say("请描述情况 / please describe it", "error"); return; }
    $("submit").disabled = true;
    try {
      const body = { client_id: state.clientId, category: $("category").value, source: $("source").value,
        description: $("description").value.trim(), lon: state.lonlat[0], lat: state.lonlat[1],
        reporter_contact: $("contact").value.trim() || null };
      const data = await api("/events", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body) });
      const r = data.results[0];
      say("已提交，编号 " + r.event_id + "，已分拨至网格 " + r.grid_code + " / Sent: event " + r.event_id
        + ", assigned to grid " + r.grid_code, "ok");
      document.body.dataset.sent = String(r.event_id);
      state.clientId = newId();
      $("description").value = "";
    } catch (err) {
      say("提交失败 / not sent: " + err.message, "error");
    } finally {
      $("submit").disabled = false;
    }
  });
})();

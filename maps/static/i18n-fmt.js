/* gridgov planner map: strings, number formats and HTML escaping. */
"use strict";
window.gg = window.gg || {};
(function (gg) {
  gg.lang = document.documentElement.lang || "zh-CN";

  /** The string `key` of the page language, with {name} placeholders filled from `vars`. */
  gg.t = function (key, vars) {
    const table = (gg.config && gg.config.strings) || {};
    let text = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : key;
    if (vars) {
      text = text.replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined && vars[k] !== null ? vars[k] : m));
    }
    return text;
  };

  gg.esc = function (value) {
    return String(value === undefined || value === null ? "" : value).replace(/[&<>"']/g,
      (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  };

  gg.num = function (value, digits) {
    if (value === undefined || value === null || Number.isNaN(Number(value))) return "–";
    const d = digits || 0;
    return Number(value).toLocaleString(gg.lang, { maximumFractionDigits: d, minimumFractionDigits: d });
  };

  gg.dist = function (metres) {
    return metres >= 1000 ? gg.num(metres / 1000, 2) + " km" : gg.num(metres, 0) + " m";
  };

  /** The display name of a unit or station in the page language. */
  gg.name = function (props) {
    if (!props) return "";
    return gg.lang === "en" && props.name_en ? props.name_en : (props.name || props.code || "");
  };

  /** A timestamp from the API (UTC; naive ones are UTC too) in Beijing time, "YYYY-MM-DD HH:MM". */
  gg.beijingTime = function (value) {
    if (!value) return "";
    const text = String(value).replace(" ", "T");
    const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : text + "Z");
    if (Number.isNaN(d.getTime())) return String(value);
    const b = new Date(d.getTime() + 8 * 3600 * 1000);
    const pad = (n) => String(n).padStart(2, "0");
    return b.getUTCFullYear() + "-" + pad(b.getUTCMonth() + 1) + "-" + pad(b.getUTCDate()) + " " + pad(b.getUTCHours()) + ":"
      + pad(b.getUTCMinutes()) + (gg.lang === "en" ? " (UTC+8)" : "（北京时间）");
  };

  gg.today = function () {
    const d = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  };
})(window.gg);

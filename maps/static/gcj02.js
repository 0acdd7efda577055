/* WGS84 <-> GCJ-02 for AMap/Gaode tiles (the same published formula as geo/crs.py). */
"use strict";
window.gg = window.gg || {};
(function (gg) {
  const A = 6378245.0;
  const EE = 0.00669342162296594323;

  function offset(lon, lat) {
    const x = lon - 105.0;
    const y = lat - 35.0;
    let dLat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x))
      + (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0
      + (20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin(y / 3.0 * Math.PI)) * 2.0 / 3.0
      + (160.0 * Math.sin(y / 12.0 * Math.PI) + 320 * Math.sin(y * Math.PI / 30.0)) * 2.0 / 3.0;
    let dLon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x))
      + (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0
      + (20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin(x / 3.0 * Math.PI)) * 2.0 / 3.0
      + (150.0 * Math.sin(x / 12.0 * Math.PI) + 300.0 * Math.sin(x / 30.0 * Math.PI)) * 2.0 / 3.0;
    const rad = lat / 180.0 * Math.PI;
    const magic = 1 - EE * Math.sin(rad) * Math.sin(rad);
    const sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((A * (1 - EE)) / (magic * sqrtMagic) * Math.PI);
    dLon = (dLon * 180.0) / (A / sqrtMagic * Math.cos(rad) * Math.PI);
    return [dLon, dLat];
  }

  gg.gcj = {
    /** [lon, lat] WGS84 -> GCJ-02. */
    fromWgs: function (lon, lat) {
      const d = offset(lon, lat);
      return [lon + d[0], lat + d[1]];
    },
    /** [lon, lat] GCJ-02 -> WGS84 by fixed-point iteration (sub-millimetre). */
    toWgs: function (lon, lat) {
      let wLon = lon;
      let wLat = lat;
      for (let i = 0; i < 30; i++) {
        const f = gg.gcj.fromWgs(wLon, wLat);
        const eLon = f[0] - lon;
        const eLat = f[1] - lat;
        wLon -= eLon;
        wLat -= eLat;
        if (Math.abs(eLon) < 1e-10 && Math.abs(eLat) < 1e-10) break;
      }
      return [wLon, wLat];
    },
  };
})(window.gg);

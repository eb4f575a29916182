"use strict";
// mrqa report page helpers: duration formatting for chart labels, chart
// start-up with render timing, and sortable tables. No network, no globals
// beyond the mrqa* names and window.__mrqaRenderMs.

// mrqaDur mirrors format.go's fmtSec.
function mrqaDur(s) {
  if (s === Infinity) return "∞";
  if (s == null || isNaN(s)) return "—";
  if (s === 0) return "0";
  if (s < 0.001) return (s * 1e6).toFixed(0) + " µs";
  if (s < 0.01) return (s * 1e3).toFixed(2) + " ms";
  if (s < 0.1) return (s * 1e3).toFixed(1) + " ms";
  if (s < 1) return (s * 1e3).toFixed(0) + " ms";
  if (s < 10) return s.toFixed(2) + " s";
  if (s < 100) return s.toFixed(1) + " s";
  return s.toFixed(0) + " s";
}

// mrqaHatch is the fill of implied heatmap cells: grey diagonal hatching,
// so they never read as measured.
function mrqaHatch() {
  var c = document.createElement("canvas"), g = c.getContext("2d");
  c.width = c.height = 10;
  g.fillStyle = "#e4e4e4"; g.fillRect(0, 0, 10, 10);
  g.strokeStyle = "#a8a8a8"; g.lineWidth = 2;
  g.beginPath(); g.moveTo(-1, 11); g.lineTo(11, -1); g.moveTo(-1, 1); g.lineTo(1, -1); g.moveTo(9, 11); g.lineTo(11, 9); g.stroke();
  return { image: c, repeat: "repeat" };
}

// mrqaInit draws every chart, then records in window.__mrqaRenderMs the time
// since navigation start at which the last one finished rendering.
function mrqaInit(list) {
  var pending = list.length, instances = [];
  var done = function () {
    window.__mrqaRenderMs = performance.now();
    document.documentElement.setAttribute("data-rendered", String(list.length));
  };
  if (pending === 0) { done(); return; }
  list.forEach(function (c) {
    var el = document.getElementById(c.id);
    var chart = echarts.init(el, null, { renderer: "canvas" });
    var counted = false;
    chart.on("finished", function () {
      if (counted) return;
      counted = true;
      if (--pending === 0) done();
    });
    chart.setOption(c.option);
    instances.push(chart);
  });
  var resize = function () { instances.forEach(function (ch) { ch.resize(); }); };
  window.addEventListener("resize", resize);
  window.addEventListener("beforeprint", resize);
  window.addEventListener("afterprint", resize);
}

// mrqaSortable makes a table's header cells sort its rows by their data-v
// values (numbers where both parse, text otherwise); a second click reverses.
function mrqaSortable(table) {
  var heads = table.querySelectorAll("thead th");
  heads.forEach(function (th, col) {
    th.tabIndex = 0;
    var sort = function () {
      var body = table.tBodies[0];
      var asc = th.getAttribute("aria-sort") !== "ascending";
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var rows = Array.prototype.slice.call(body.rows);
      var key = function (r) { var c = r.cells[col]; return c ? (c.getAttribute("data-v") || c.textContent) : ""; };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y), d;
        d = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? d : -d;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
  });
}

document.querySelectorAll("table.sortable").forEach(mrqaSortable);

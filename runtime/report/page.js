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

// mrqaEdge draws one edge of the heatmap's pass/fail boundary (a custom
// series' renderItem): data are [C index, S index, side], side 0 the cell's
// right edge, 1 its top edge. A white halo keeps it visible on every colour.
function mrqaEdge(params, api) {
  var c = api.coord([api.value(0), api.value(1)]), sz = api.size([1, 1]);
  var w = sz[0] / 2, h = sz[1] / 2, shape;
  if (api.value(2) === 0) shape = { x1: c[0] + w, y1: c[1] - h, x2: c[0] + w, y2: c[1] + h };
  else shape = { x1: c[0] - w, y1: c[1] - h, x2: c[0] + w, y2: c[1] - h };
  return { type: "group", children: [
    { type: "line", shape: shape, style: { stroke: "#ffffff", lineWidth: 7, lineCap: "round" } },
    { type: "line", shape: shape, style: { stroke: "#6f2da8", lineWidth: 3.5, lineCap: "round" } }
  ] };
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

// mrqaPin keeps a table's first data-pin columns (the point and its
// verdict) in view while the table scrolls sideways in its box: as many of
// them as fit in 60% of the box, and only while the table is wider than the
// box. It runs again when the window resizes and after a sort, which can
// change the columns' widths.
function mrqaPin(table) {
  var want = parseInt(table.getAttribute("data-pin"), 10) || 0, box = table.parentElement;
  var pin = function () {
    table.querySelectorAll(".pin").forEach(function (c) {
      c.classList.remove("pin", "pin-end");
      c.style.left = "";
    });
    if (box.scrollWidth <= box.clientWidth) return;
    var head = table.tHead.rows[0].cells, x0 = head[0].offsetLeft, lefts = [];
    while (lefts.length < Math.min(want, head.length)) {
      var h = head[lefts.length];
      if (h.offsetLeft + h.offsetWidth - x0 > 0.6 * box.clientWidth) break;
      lefts.push(h.offsetLeft - x0);
    }
    Array.prototype.forEach.call(table.rows, function (row) {
      for (var i = 0; i < lefts.length && i < row.cells.length; i++) {
        row.cells[i].classList.add("pin");
        row.cells[i].style.left = lefts[i] + "px";
        if (i === lefts.length - 1) row.cells[i].classList.add("pin-end");
      }
    });
  };
  pin();
  window.addEventListener("resize", pin);
  table.tHead.addEventListener("click", pin);
  table.tHead.addEventListener("keydown", pin);
}

// mrqaElapsed writes seconds since the run started as h:mm:ss or m:ss.
function mrqaElapsed(v) {
  var neg = v < 0, s = Math.round(Math.abs(v));
  var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  return (neg ? "-" : "") + (h ? h + ":" + pad(m) : String(m)) + ":" + pad(r);
}

// mrqaTimeTip is the tooltip of the server time-series charts; units maps
// each series name to "%", "s", "/s" or "" (a count).
function mrqaTimeTip(ps, units) {
  if (!ps || !ps.length) return "";
  var s = mrqaElapsed(ps[0].value[0]) + " into the run";
  ps.forEach(function (p) {
    var v = p.value[1], u = units[p.seriesName] || "", t;
    if (v == null) t = "—";
    else if (u === "s") t = mrqaDur(v);
    else if (u === "%") t = v.toFixed(1) + "%";
    else if (u === "/s") t = v.toFixed(2) + "/s";
    else t = String(v);
    s += "<br>" + p.marker + p.seriesName + ": " + t;
  });
  return s;
}

document.querySelectorAll("table.sortable").forEach(mrqaSortable);
document.querySelectorAll("table[data-pin]").forEach(mrqaPin);

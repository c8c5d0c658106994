// xproj run report: filters, and the word alignment drawn between the two lines of a pair.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";

  function parsed(el, name) {
    try { return JSON.parse(el.getAttribute(name) || "[]"); } catch (err) { return []; }
  }

  function drawLinks(pair) {
    var svg = pair.querySelector("svg.links");
    if (!svg || pair.offsetParent === null) { return; }
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    var spec = (pair.getAttribute("data-links") || "").trim();
    if (!spec) { return; }
    var box = svg.getBoundingClientRect();
    var width = Math.max(pair.scrollWidth, box.width);
    svg.setAttribute("width", String(width));
    svg.style.width = width + "px";
    spec.split(" ").forEach(function (link) {
      var ij = link.split(",");
      var s = pair.querySelector('.src [data-s="' + parseInt(ij[0], 10) + '"]');
      var t = pair.querySelector('.tgt [data-t="' + parseInt(ij[1], 10) + '"]');
      if (!s || !t) { return; }
      var a = s.getBoundingClientRect(), b = t.getBoundingClientRect();
      var line = document.createElementNS(SVG, "line");
      line.setAttribute("x1", String(a.left + a.width / 2 - box.left));
      line.setAttribute("y1", "0");
      line.setAttribute("x2", String(b.left + b.width / 2 - box.left));
      line.setAttribute("y2", String(box.height));
      line.setAttribute("data-s", ij[0]);
      line.setAttribute("data-t", ij[1]);
      svg.appendChild(line);
    });
  }

  function drawAll() {
    document.querySelectorAll(".pair").forEach(drawLinks);
  }

  // hovering a word lights its links and the words at their other ends
  function hover(event, on) {
    var tok = event.target.closest && event.target.closest(".t");
    if (!tok) { return; }
    var pair = tok.closest(".pair");
    if (!pair) { return; }
    var side = tok.hasAttribute("data-s") ? "s" : "t";
    var other = side === "s" ? "t" : "s";
    var index = tok.getAttribute("data-" + side);
    tok.classList.toggle("on", on);
    pair.querySelectorAll("line[data-" + side + '="' + index + '"]').forEach(function (line) {
      line.classList.toggle("on", on);
      var peer = pair.querySelector((other === "s" ? ".src" : ".tgt") + " .t[data-" + other +
        '="' + line.getAttribute("data-" + other) + '"]');
      if (peer) { peer.classList.toggle("on", on); }
    });
  }

  function applyFilters() {
    var want = {};
    document.querySelectorAll("select[data-filter]").forEach(function (sel) {
      want[sel.getAttribute("data-filter")] = sel.value;
    });
    var shown = 0;
    document.querySelectorAll("article.ex").forEach(function (ex) {
      var ok = (!want.lang || ex.getAttribute("data-lang") === want.lang) &&
        (!want.label || parsed(ex, "data-labels").indexOf(want.label) >= 0) &&
        (!want.reason || parsed(ex, "data-reasons").indexOf(want.reason) >= 0);
      ex.hidden = !ok;
      if (ok && ex.parentElement && ex.parentElement.id === "sample") { shown += 1; }
    });
    document.querySelectorAll("section.worst").forEach(function (sec) {
      var match = !want.reason || sec.getAttribute("data-reason") === want.reason;
      sec.hidden = !match || !sec.querySelector("article.ex:not([hidden])");
    });
    var count = document.getElementById("shown");
    if (count) { count.textContent = String(shown); }
    drawAll();
  }

  document.querySelectorAll("select[data-filter]").forEach(function (sel) {
    sel.addEventListener("change", applyFilters);
  });
  document.querySelectorAll("form.filters").forEach(function (form) {
    form.addEventListener("submit", function (e) { e.preventDefault(); });
  });
  document.addEventListener("mouseover", function (e) { hover(e, true); });
  document.addEventListener("mouseout", function (e) { hover(e, false); });
  window.addEventListener("resize", drawAll);
  applyFilters();
}());

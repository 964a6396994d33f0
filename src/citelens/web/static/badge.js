/* CiteLens badge: renders citation statement tallies into <div class="citelens-badge" data-doi="…">.
 * Talks only to the CiteLens server this script was loaded from; no cookies, no referrer, no tracking.
 * Options (data attributes): data-layout="horizontal|vertical", data-show-zero="true|false",
 * data-sections="true|false". Text is inserted with textContent only (never innerHTML). */
(function () {
  "use strict";
  var script = document.currentScript;
  // The server's address: where this script was loaded from, up to its /static/ folder, so a server behind a
  // path prefix (https://library.example.edu/citelens/static/badge.js) is asked under that prefix too.
  var origin = window.location.origin;
  if (script && script.src) {
    var src = new URL(script.src, document.baseURI);
    var at = src.pathname.lastIndexOf("/static/");
    origin = src.origin + (at > 0 ? src.pathname.slice(0, at) : "");
  }
  var COLOURS = { supporting: "#1a7f37", mentioning: "#6e7781", contrasting: "#c4320a", label: "#24292f", section: "#57606a",
                  retracted: "#cf222e" };

  function el(tag, text, colour, vertical) {
    var e = document.createElement(tag);
    if (text) e.textContent = text;
    e.style.background = colour;
    e.style.color = "#fff";
    e.style.padding = "2px 8px";
    e.style.display = vertical ? "block" : "inline-block";
    return e;
  }

  // A 404 is an answer ("not indexed"); any other failure (503 while the index is busy, 500, no network) says
  // nothing about the work, so the badge must not claim it is missing from the index.
  function get(url) {
    return fetch(url, { credentials: "omit", referrerPolicy: "no-referrer", mode: "cors" }).then(function (r) {
      if (!r.ok) { var e = new Error(String(r.status)); e.status = r.status; throw e; }
      return r.json();
    });
  }

  function render(node) {
    var doi = (node.getAttribute("data-doi") || "").trim();
    if (!doi || node.getAttribute("data-citelens-done")) return;
    node.setAttribute("data-citelens-done", "1");
    var vertical = node.getAttribute("data-layout") === "vertical";
    var showZero = node.getAttribute("data-show-zero") !== "false";
    var withSections = node.getAttribute("data-sections") === "true";
    var base = origin + "/api/tallies/" + doi.split("/").map(encodeURIComponent).join("/");
    var box = document.createElement("a");
    box.href = origin + "/reports/" + doi.split("/").map(encodeURIComponent).join("/");
    box.rel = "noopener noreferrer";
    box.className = "clb";
    box.style.display = vertical ? "inline-block" : "inline-flex";
    box.style.textDecoration = "none";
    box.style.font = "12px/1.5 system-ui, sans-serif";
    box.style.borderRadius = "4px";
    box.style.overflow = "hidden";
    box.appendChild(el("span", "CiteLens", COLOURS.label, vertical));
    var shown = [];
    function add(text, colour) {
      shown.push(text);
      box.appendChild(el("span", text, colour, vertical));
    }
    function done() {
      // The label is all a screen reader says for the link: it names what the badge shows, as the SVG badge's does.
      box.setAttribute("aria-label", "CiteLens citation statements for " + doi + ": " + shown.join(", "));
      node.appendChild(box);
    }
    Promise.all([get(base), withSections ? get(base + "/sections") : Promise.resolve(null)]).then(function (res) {
      var t = res[0], s = res[1];
      // First, as on the SVG badge: a retracted work's tallies must not be read as standing.
      if (t.retracted === true) add("retracted", COLOURS.retracted);
      [["supporting", t.supporting], ["mentioning", t.mentioning], ["contrasting", t.contradicting]].forEach(function (p) {
        if (p[1] || showZero) add(p[1] + " " + p[0], COLOURS[p[0]]);
      });
      if (s) {
        ["introduction", "methods", "results", "discussion", "other"].forEach(function (k) {
          if (s[k] || showZero) add(s[k] + " in " + k, COLOURS.section);
        });
      }
      done();
    }).catch(function (e) {
      if (e && e.status === 404) add("not indexed", COLOURS.mentioning);
      else add("unavailable", COLOURS.retracted);
      done();
    });
  }

  function run() {
    var nodes = document.querySelectorAll("div.citelens-badge[data-doi]");
    for (var i = 0; i < nodes.length; i++) render(nodes[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
})();

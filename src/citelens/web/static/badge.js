/* CiteLens badge: renders citation statement tallies into <div class="citelens-badge" data-doi="…">.
 * Talks only to the CiteLens server this script was loaded from; no cookies, no referrer, no tracking.
 * Options (data attributes): data-layout="horizontal|vertical", data-show-zero="true|false",
 * data-sections="true|false". Text is inserted with textContent only (never innerHTML). */
(function () {
  "use strict";
  var script = document.currentScript;
  var origin = script && script.src ? new URL(script.src, document.baseURI).origin : window.location.origin;
  var COLOURS = { supporting: "#1a7f37", mentioning: "#6e7781", contrasting: "#c4320a", label: "#24292f", section: "#57606a" };

  function el(tag, text, colour, vertical) {
    var e = document.createElement(tag);
    if (text) e.textContent = text;
    e.style.background = colour;
    e.style.color = "#fff";
    e.style.padding = "2px 8px";
    e.style.display = vertical ? "block" : "inline-block";
    return e;
  }

  function get(url) {
    return fetch(url, { credentials: "omit", referrerPolicy: "no-referrer", mode: "cors" }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
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
    box.setAttribute("aria-label", "CiteLens citation statements for " + doi);
    box.appendChild(el("span", "CiteLens", COLOURS.label, vertical));
    Promise.all([get(base), withSections ? get(base + "/sections") : Promise.resolve(null)]).then(function (res) {
      var t = res[0], s = res[1];
      [["supporting", t.supporting], ["mentioning", t.mentioning], ["contrasting", t.contradicting]].forEach(function (p) {
        if (p[1] || showZero) box.appendChild(el("span", p[1] + " " + p[0], COLOURS[p[0]], vertical));
      });
      if (s) {
        ["introduction", "methods", "results", "discussion", "other"].forEach(function (k) {
          if (s[k] || showZero) box.appendChild(el("span", s[k] + " in " + k, COLOURS.section, vertical));
        });
      }
      node.appendChild(box);
    }).catch(function () {
      box.appendChild(el("span", "not indexed", COLOURS.mentioning, vertical));
      node.appendChild(box);
    });
  }

  function run() {
    var nodes = document.querySelectorAll("div.citelens-badge[data-doi]");
    for (var i = 0; i < nodes.length; i++) render(nodes[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
})();

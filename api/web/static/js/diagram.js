// Draw every .pf-diagram with bpmn-js (navigated viewer: pan, zoom, keyboard), then mark
// elements by id (data-marks: {id: class}) and pin overlays (data-overlays: [{id, text,
// kind, title}]). Texts go in with textContent, never as HTML. When done, the container
// gets data-ready="1" and data-warnings="<count>" (the browser tests read both).
(function () {
  "use strict";
  function parse(box, name, fallback) {
    try { return JSON.parse(box.getAttribute(name) || "") || fallback; } catch (e) { return fallback; }
  }

  function fail(box, error) {
    box.setAttribute("data-ready", "error");
    box.setAttribute("data-error", String(error && error.message || error));
    var note = box.parentNode.querySelector(".diagram-failed");
    if (note) { note.hidden = false; }
  }

  function overlay(viewer, box, item) {
    var registry = viewer.get("elementRegistry");
    if (!registry.get(item.id)) { return; }  // no DI for it: the list shows it
    var el = document.createElement("span");
    el.className = "pf-overlay pf-overlay-" + (item.kind || "note");
    el.textContent = item.text;
    if (item.title) { el.title = item.title; el.setAttribute("aria-label", item.text + ": " + item.title); }
    viewer.get("overlays").add(item.id, { position: { top: -14, right: 14 }, html: el });
    box.setAttribute("data-pinned", String(Number(box.getAttribute("data-pinned") || 0) + 1));
  }

  function decorate(viewer, box) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var marks = parse(box, "data-marks", {});
    Object.keys(marks).forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, marks[id]); }
    });
    parse(box, "data-overlays", []).forEach(function (item) { overlay(viewer, box, item); });
    canvas.zoom("fit-viewport", "auto");
    // On a phone the whole procedure is too small to read: show the current step instead.
    var current = Object.keys(marks).filter(function (id) {
      return marks[id] === "pf-current" && registry.get(id);
    })[0];
    if (current && box.clientWidth < 600 && canvas.zoom() < 0.6) {
      canvas.zoom(0.8);
      canvas.scrollToElement(registry.get(current));
    }
  }

  function draw(box, xml) {
    var viewer = new window.BpmnJS({ container: box });
    return viewer.importXML(xml).then(function (result) {
      box.setAttribute("data-warnings", String((result.warnings || []).length));
      decorate(viewer, box);
      box.setAttribute("data-ready", "1");
    });
  }

  function load(box) {
    if (!window.BpmnJS) { return fail(box, "bpmn-js missing"); }
    var inline = box.getAttribute("data-xml");
    var source = inline ? Promise.resolve(inline) : fetch(box.getAttribute("data-src"), {
      credentials: "same-origin", headers: { Accept: "application/xml" }
    }).then(function (answer) {
      if (!answer.ok) { throw new Error("HTTP " + answer.status); }
      return answer.text();
    });
    source.then(function (xml) { return draw(box, xml); }).catch(function (error) { fail(box, error); });
  }

  Array.prototype.forEach.call(document.querySelectorAll(".pf-diagram"), load);
}());

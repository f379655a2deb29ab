// Admin additions for cluster editors.
(function () {
  "use strict";
  // A new document's title, proposed from its file name in words ("vojvodina_practice.pdf" ->
  // "Vojvodina practice"): visitors see it as the link text. The editor can still change it.
  document.addEventListener("wagtail:documents-upload", function (event) {
    var name = (event.detail.filename || "").replace(/\.[^.]+$/, "");
    var words = name.replace(/[_\-.+]+/g, " ").replace(/\s+/g, " ").trim();
    if (!words) return;
    var title = words.charAt(0).toUpperCase() + words.slice(1);
    var max = event.detail.maxTitleLength;
    event.detail.data.title = max ? title.slice(0, max) : title;
  });
})();

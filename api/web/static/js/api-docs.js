// Swagger UI over the OpenAPI document (a file, not an inline script: the CSP allows 'self').
(function () {
  "use strict";
  var box = document.getElementById("swagger");
  if (!box || !window.SwaggerUIBundle) { return; }
  window.SwaggerUIBundle({ url: box.getAttribute("data-url"), domNode: box, deepLinking: true });
}());

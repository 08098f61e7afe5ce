// Renders this service's OpenAPI document with the bundled Swagger UI. A file of its own (not an inline script)
// so the page runs under a Content-Security-Policy without 'unsafe-inline'.
"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    domNode: root,
    deepLinking: true,
    validatorUrl: null, // never ask a third party to validate the document
    tryItOutEnabled: false,
    persistAuthorization: false,
    defaultModelsExpandDepth: 0
  });
})();

//! `GET /openapi.json` (generated from the handlers' annotations) and `GET /docs`.

use axum::{Json, response::Html};

pub async fn openapi_json() -> Json<&'static serde_json::Value> {
    Json(crate::openapi::document())
}

/// An interactive reference rendered in the browser from `/openapi.json`.
pub async fn docs_page() -> Html<&'static str> {
    Html(
        r#"<!doctype html>
<html><head><title>Tradeforge API</title><meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/></head>
<body><script id="api-reference" data-url="/openapi.json"></script>
<script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference"></script>
<noscript>The machine-readable document is at <a href="/openapi.json">/openapi.json</a>.</noscript>
</body></html>"#,
    )
}

//! `GET /openapi.json` (generated from the handlers' annotations) and `GET /docs`: Swagger UI,
//! served from the binary (a pinned copy embedded at build time), so the reference works
//! offline and no third-party script runs on this origin.

use axum::{
    Router,
    extract::Request,
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};
use utoipa_swagger_ui::SwaggerUi;

use crate::state::AppState;

/// Swagger UI loads its scripts, styles and the document from this origin only; images
/// include the inline SVG icons it ships as data URIs. Its stylesheet sets inline styles.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'none'";

pub fn router() -> Router<AppState> {
    let ui = SwaggerUi::new("/docs")
        .external_url_unchecked("/openapi.json", crate::openapi::document().clone());
    Router::from(ui).layer(axum::middleware::from_fn(docs_csp))
}

async fn docs_csp(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOCS_CSP));
    response
}

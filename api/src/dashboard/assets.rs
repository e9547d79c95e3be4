//! The dashboard's static files, compiled into the binary. Names of our own files carry no
//! version, so browsers revalidate them (ETag) instead of keeping a stale copy after an upgrade.

use std::sync::LazyLock;

use axum::{
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

macro_rules! assets {
    ($(($name:literal, $type:expr)),* $(,)?) => {
        &[$(($name, $type, include_bytes!(concat!("static/", $name)) as &[u8])),*]
    };
}

/// Name under `/ui/static/`, content type, bytes.
static ASSETS: &[(&str, &str, &[u8])] = assets![
    ("app.css", CSS),
    ("app.js", JS),
    ("charts.js", JS),
    ("vendor/htmx-2.0.11.min.js", JS),
    ("vendor/htmx-ext-sse-2.2.4.min.js", JS),
    ("vendor/uPlot-1.6.32.iife.min.js", JS),
    ("vendor/uPlot-1.6.32.min.css", CSS),
    ("vendor/LICENSES.md", "text/markdown; charset=utf-8"),
];

static ETAGS: LazyLock<Vec<HeaderValue>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|(_, _, body)| {
            let tag = format!("\"{}\"", hex::encode(&Sha256::digest(body)[..12]));
            HeaderValue::from_str(&tag).expect("hex")
        })
        .collect()
});

pub async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(i) = ASSETS.iter().position(|(name, _, _)| *name == file) else {
        return ApiError::new(StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let (_, content_type, body) = ASSETS[i];
    let etag = ETAGS[i].clone();
    let fresh = headers.get(header::IF_NONE_MATCH) == Some(&etag);
    let headers = [
        (header::ETAG, etag),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (headers, body).into_response()
}

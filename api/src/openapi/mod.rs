//! The OpenAPI 3.1 document: generated from the handlers' `#[utoipa::path]` annotations, then
//! completed where the annotations cannot say it exactly:
//!
//! - every 4xx/5xx answer is `application/problem+json` (all errors go through `ApiError`);
//! - the `POST /jobs` body is `shared::job::submission_schema()`, built from the parser's own
//!   bounds and patterns;
//! - an SSE response is described per event (`data`, `event`, `id`, `retry`);
//! - every route but `/health` needs a bearer API key, and may answer 401 and 403.

use std::sync::LazyLock;

use serde_json::{Value, json};
use utoipa::{OpenApi, ToSchema};

use crate::routes::jobs;

/// A job submission; its schema is replaced by `shared::job::submission_schema()`.
#[derive(ToSchema)]
#[allow(dead_code)] // a name for the schema component
pub struct SubmitJob(serde_json::Value);

#[derive(OpenApi)]
#[openapi(
    info(title = "Tradeforge", description = "Queue-driven jobs for trading research: LLM analysis and forecasting-model training."),
    paths(
        jobs::post::create_job,
        jobs::list::list_jobs,
        jobs::get::get_job,
        jobs::cancel::cancel_job,
        jobs::retry::retry_job,
        jobs::events::job_events,
        crate::routes::events::events,
        jobs::artifacts::list_artifacts,
        jobs::artifacts::get_artifact,
        crate::routes::health::health,
        crate::routes::health::ready,
        crate::routes::overview::overview,
        jobs::share::share_model,
        crate::routes::market::bars::get_bars,
        crate::routes::market::symbols::list_symbols,
        crate::routes::models::list::list_models,
        crate::routes::models::forecast::get_forecast,
    ),
    components(schemas(SubmitJob, shared::job::Job, shared::job::JobSummary, shared::job::Progress, crate::error::Problem)),
    tags((name = "jobs"), (name = "market"), (name = "models"), (name = "operations"))
)]
pub struct ApiDoc;

/// The finished document, built once.
pub fn document() -> &'static Value {
    static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
        complete(&mut doc);
        doc
    });
    &DOCUMENT
}

fn complete(doc: &mut Value) {
    doc["components"]["schemas"]["SubmitJob"] = shared::job::submission_schema();
    let problem = json!({"schema": {"$ref": "#/components/schemas/Problem"}});
    let event = json!({"schema": {
        "type": "object",
        "description": "one Server-Sent Event: `update` with a Job as JSON in `data`, or `gone`",
        "properties": {"event": {"type": "string"}, "data": {"type": "string"},
                       "id": {"type": "string"}, "retry": {"type": "integer"}},
    }});
    // A job's files are named in its listing: lets a stateful run download real artifacts.
    doc["paths"]["/jobs/{id}/artifacts"]["get"]["responses"]["200"]["links"] = json!({
        "GetFirstArtifact": {
            "operationId": "get_artifact",
            "parameters": {"id": "$request.path.id", "name": "$response.body#/0/name"},
        },
    });
    doc["components"]["securitySchemes"] = json!({"apiKey": {
        "type": "http", "scheme": "bearer",
        "description": "an API key, `tf_…` (`api keys create`); not needed with AUTH_MODE=disabled",
    }});
    doc["security"] = json!([{"apiKey": []}]);
    doc["paths"]["/health"]["get"]["security"] = json!([]);
    let denied = [
        ("401", "no key, or a key that is unknown, revoked or expired (see WWW-Authenticate)"),
        ("403", "the key lacks the scope this route needs"),
    ];
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    for (path, operation) in paths
        .iter_mut()
        .filter_map(|(path, item)| Some((path.clone(), item.as_object_mut()?)))
        .flat_map(|(path, item)| item.values_mut().map(move |op| (path.clone(), op)))
    {
        let Some(responses) = operation["responses"].as_object_mut() else { continue };
        if path != "/health" {
            for (status, description) in denied {
                responses.entry(status).or_insert_with(|| json!({"description": description}));
            }
        }
        for (status, response) in responses.iter_mut() {
            if status.starts_with('4') || status.starts_with('5') {
                response["content"] = json!({"application/problem+json": problem});
            } else if response["content"].get("text/event-stream").is_some() {
                response["content"]["text/event-stream"] = event.clone();
            }
        }
    }
    // The feed's events are other than the per-job stream's.
    doc["paths"]["/events"]["get"]["responses"]["200"]["content"]["text/event-stream"] = json!({
        "schema": {
            "type": "object",
            "description": "one Server-Sent Event: `job` with a JobSummary as JSON in `data`",
            "properties": {
                "event": {"type": "string", "const": "job"},
                "data": {"type": "string", "contentMediaType": "application/json",
                         "contentSchema": {"$ref": "#/components/schemas/JobSummary"}},
                "retry": {"type": "integer"},
            },
        },
    });
}

//! `/ui/submit`: a form per kind of job. The page's script turns a form into the JSON body of
//! `POST /jobs` and shows the API's own answer: a problem's `detail` next to the field it
//! names, or the new job's page.

use askama::Template;
use axum::{extract::Query, response::Response};
use serde::Deserialize;
use shared::job::input_bounds::{
    DEFAULT_MAX_STEPS, MAX_CONTEXT_CHARS, MAX_HORIZON, MAX_INPUT_SIZE, MAX_QUESTION_CHARS,
    MAX_STEPS, MAX_TEXT_CHARS,
};

use super::{Nav, Viewer, respond};

#[derive(Template)]
#[template(path = "submit.html")]
struct SubmitPage {
    nav: Nav,
    /// The form to open first: journal, market or training.
    kind: String,
    today: String,
    max_text: usize,
    max_context: usize,
    max_question: usize,
    max_horizon: u64,
    max_input_size: u64,
    max_steps: u64,
    default_steps: u64,
}

#[derive(Deserialize)]
pub struct Kind {
    kind: Option<String>,
}

pub async fn page(viewer: Viewer, Query(query): Query<Kind>) -> Response {
    let kind = match query.kind.as_deref() {
        Some(k @ ("market" | "training")) => k.to_owned(),
        _ => "journal".to_owned(),
    };
    respond(SubmitPage {
        nav: Nav::new("submit", &viewer),
        kind,
        today: chrono::Utc::now().date_naive().to_string(),
        max_text: MAX_TEXT_CHARS,
        max_context: MAX_CONTEXT_CHARS,
        max_question: MAX_QUESTION_CHARS,
        max_horizon: MAX_HORIZON,
        max_input_size: MAX_INPUT_SIZE,
        max_steps: MAX_STEPS,
        default_steps: DEFAULT_MAX_STEPS,
    })
}

use std::time::{Duration, Instant};

use testkit::ollama_double::OllamaDouble;

use super::super::models::ProgressThrottle;
use super::super::{PullProgress, canonical_model_name};
use super::{MODEL, client};
use crate::llm::ServerError;

#[tokio::test]
async fn list_models_reads_the_tags() {
    let double = OllamaDouble::start_with_models(&[MODEL, "llama3"]).await;
    let models = client(&double).list_models().await.expect("the tags");
    let names: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, [MODEL, "llama3:latest"]);
    assert_eq!(models[0].model.as_deref(), Some(MODEL));
    assert_eq!(models[0].details.format.as_deref(), Some("gguf"));
    assert!(models[0].size > 0 && models[0].digest.len() == 64);
}

#[tokio::test]
async fn an_installed_model_is_not_pulled_and_latest_is_implied() {
    let double = OllamaDouble::start_with_models(&[MODEL, "llama3"]).await;
    let client = client(&double);
    for name in [MODEL, "llama3", "llama3:latest"] {
        client.ensure_model(name, true, &|_| {}).await.unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert_eq!(double.pull_calls(), 0);
}

#[tokio::test]
async fn a_missing_model_is_pulled_when_allowed() {
    let double = OllamaDouble::start_with_models(&[]).await;
    client(&double).ensure_model(MODEL, true, &|_| {}).await.expect("pulled");
    assert!(double.has_model(MODEL));
    assert_eq!(double.pull_calls(), 1);
}

#[tokio::test]
async fn a_missing_model_without_pull_names_the_fix() {
    let double = OllamaDouble::start_with_models(&["qwen2.5:7b"]).await;
    let error = client(&double).ensure_model(MODEL, false, &|_| {}).await.unwrap_err();
    assert!(
        matches!(&error, ServerError::ModelNotFound { model, .. } if model == MODEL),
        "{error:?}"
    );
    assert!(!error.is_transient());
    let text = error.to_string();
    assert!(
        text.contains("`ollama pull qwen2.5:3b`") && text.contains("OLLAMA_PULL=true"),
        "{text}"
    );
    assert_eq!(double.pull_calls(), 0);
}

#[tokio::test]
async fn a_failed_pull_fails_ensure_model() {
    let double = OllamaDouble::start_with_models(&[]).await;
    double.fail_next_pull("pull model manifest: file does not exist");
    let error = client(&double).ensure_model("nosuchmodel:1b", true, &|_| {}).await.unwrap_err();
    assert!(matches!(error, ServerError::PullFailed { .. }), "{error:?}");
    assert!(!error.is_transient(), "the registry has no such model");
}

#[test]
fn canonical_names_add_latest_only_where_the_tag_is_missing() {
    assert_eq!(canonical_model_name("llama3"), "llama3:latest");
    assert_eq!(canonical_model_name("qwen2.5:3b"), "qwen2.5:3b");
    assert_eq!(canonical_model_name("library/llama3"), "library/llama3:latest");
    assert_eq!(canonical_model_name("registry:5000/ns/model"), "registry:5000/ns/model:latest");
}

fn line(status: &str, completed: Option<u64>) -> PullProgress {
    let total = completed.map(|_| 1000);
    PullProgress { status: status.into(), digest: Some("sha256:aa".into()), total, completed }
}

#[test]
fn pull_progress_is_logged_per_status_per_tenth_and_every_five_seconds() {
    let mut throttle = ProgressThrottle::default();
    let start = Instant::now();
    let at = |ms| start + Duration::from_millis(ms);
    assert!(throttle.should_log(&line("pulling manifest", None), at(0)));
    assert!(throttle.should_log(&line("pulling aa", Some(0)), at(10)), "a new layer");
    assert!(!throttle.should_log(&line("pulling aa", Some(50)), at(20)), "same tenth");
    assert!(throttle.should_log(&line("pulling aa", Some(100)), at(30)), "10% further");
    assert!(!throttle.should_log(&line("pulling aa", Some(150)), at(4000)));
    assert!(throttle.should_log(&line("pulling aa", Some(160)), at(5100)), "5 s passed");
    assert!(throttle.should_log(&line("success", None), at(5200)));
}

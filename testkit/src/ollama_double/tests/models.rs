use serde_json::{Value, json};

use super::super::DOUBLE_OLLAMA_VERSION;
use super::{OllamaDouble, ndjson, post, post_raw};

async fn get(double: &OllamaDouble, path: &str) -> (u16, String) {
    let response =
        reqwest::get(format!("{}{path}", double.url())).await.expect("the double answers");
    (response.status().as_u16(), response.text().await.expect("a body"))
}

#[tokio::test]
async fn tags_list_the_installed_models_with_ollamas_fields() {
    let double = OllamaDouble::start_with_models(&["qwen2.5:3b", "llama3"]).await;
    let (status, text) = get(&double, "/api/tags").await;
    assert_eq!(status, 200);
    let tags: Value = serde_json::from_str(&text).unwrap();
    let models = tags["models"].as_array().expect("a models array");
    let names: Vec<&str> = models.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["qwen2.5:3b", "llama3:latest"]);
    let first = &models[0];
    assert_eq!(first["model"], "qwen2.5:3b");
    assert!(first["size"].is_u64() && first["modified_at"].is_string());
    assert_eq!(first["digest"].as_str().map(str::len), Some(64));
    assert_eq!(first["details"]["format"], "gguf");
}

#[tokio::test]
async fn a_streamed_pull_reports_progress_then_success_and_installs_the_model() {
    let double = OllamaDouble::start_with_models(&[]).await;
    let (status, text) = post_raw(&double, "/api/pull", r#"{"model":"qwen2.5:3b"}"#).await;
    assert_eq!(status, 200);
    let lines = ndjson(&text);
    assert_eq!(lines.first(), Some(&json!({ "status": "pulling manifest" })));
    assert_eq!(lines.last(), Some(&json!({ "status": "success" })));
    let downloads: Vec<&Value> = lines.iter().filter(|l| l["total"].is_u64()).collect();
    assert!(
        downloads.iter().all(|l| l["digest"].as_str().is_some_and(|d| d.starts_with("sha256:")))
    );
    assert!(downloads.iter().any(|l| l["completed"] == l["total"]), "a layer completes");
    assert_eq!(double.models(), ["qwen2.5:3b"]);
    assert_eq!(double.pull_calls(), 1);
}

#[tokio::test]
async fn a_pull_failure_is_an_error_line_inside_the_stream() {
    let double = OllamaDouble::start_with_models(&[]).await;
    double.fail_next_pull("pull model manifest: file does not exist");
    let (status, text) = post_raw(&double, "/api/pull", r#"{"model":"nope:1b"}"#).await;
    assert_eq!(status, 200, "the stream had already started");
    let lines = ndjson(&text);
    assert_eq!(lines.last(), Some(&json!({ "error": "pull model manifest: file does not exist" })));
    assert!(double.models().is_empty());
}

#[tokio::test]
async fn an_unstreamed_pull_answers_one_object() {
    let double = OllamaDouble::start_with_models(&[]).await;
    let body = json!({ "model": "llama3", "stream": false });
    assert_eq!(post(&double, "/api/pull", &body).await, (200, json!({ "status": "success" })));
    assert!(double.has_model("llama3:latest"));
    double.fail_next_pull("max retries exceeded");
    let (status, error) = post(&double, "/api/pull", &body).await;
    assert_eq!((status, error), (500, json!({ "error": "max retries exceeded" })));
}

#[tokio::test]
async fn root_version_stats_and_unknown_paths_answer_like_ollama() {
    let double = OllamaDouble::start().await;
    assert_eq!(get(&double, "/").await, (200, "Ollama is running".into()));
    let (_, version) = get(&double, "/api/version").await;
    assert_eq!(
        serde_json::from_str::<Value>(&version).unwrap(),
        json!({ "version": DOUBLE_OLLAMA_VERSION })
    );
    let (_, stats) = get(&double, "/_double/stats").await;
    let stats: Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(
        (stats["chat_calls"].as_u64(), stats["max_concurrent_chats"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(get(&double, "/api/nothing").await, (404, "404 page not found".into()));
}

#[tokio::test]
async fn show_describes_an_installed_model_and_404s_an_unknown_one() {
    let double = OllamaDouble::start_with_models(&["qwen2.5:3b", "llama3"]).await;
    let (status, body) = post(&double, "/api/show", &json!({"model": "llama3"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["details"]["format"], "gguf");
    let (status, body) = post(&double, "/api/show", &json!({"name": "qwen2.5:3b"})).await;
    assert_eq!(status, 200, "older clients send name: {body}");
    let (status, body) = post(&double, "/api/show", &json!({"model": "nope:1b"})).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("model 'nope:1b' not found")));
}

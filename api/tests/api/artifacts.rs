//! Downloads: streamed, labelled, and only of regular files inside the job's directory.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestApi, spawn_api};

async fn job_with_dir(api: &TestApi) -> (String, std::path::PathBuf) {
    let job =
        api.submit(&json!({"kind": "analysis", "input": {"task": "journal", "text": "a"}})).await;
    let id = job["id"].as_str().unwrap().to_owned();
    let dir = api.results.path().join(&id);
    std::fs::create_dir_all(&dir).unwrap();
    (id, dir)
}

#[tokio::test]
async fn a_file_is_streamed_with_its_length_name_and_nosniff() {
    let api = spawn_api().await;
    let (id, dir) = job_with_dir(&api).await;
    let weights: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.join("model.safetensors"), &weights).unwrap();
    std::fs::write(dir.join("report.md"), "# Report\n").unwrap();
    std::fs::write(dir.join(".report.md.1234.tmp"), "half-written").unwrap();

    let listed: Vec<Value> = api.get(&format!("/jobs/{id}/artifacts")).await.json().await.unwrap();
    let names: Vec<&str> = listed.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["model.safetensors", "report.md"]);
    assert_eq!(listed[0]["size"], 3_000_000);

    let response = api.get(&format!("/jobs/{id}/artifacts/model.safetensors")).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-length"], "3000000");
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(headers["content-disposition"], "attachment; filename=\"model.safetensors\"");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(response.bytes().await.unwrap().as_ref(), weights.as_slice());

    let report = api.get(&format!("/jobs/{id}/artifacts/report.md")).await;
    assert_eq!(report.headers()["content-type"], "text/markdown; charset=utf-8");
    assert_eq!(report.headers()["content-disposition"], "inline; filename=\"report.md\"");
    assert!(report.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));
}

#[tokio::test]
async fn symlinks_and_fifos_in_a_job_directory_are_neither_listed_nor_served() {
    let api = spawn_api().await;
    let (id, dir) = job_with_dir(&api).await;
    std::os::unix::fs::symlink("/etc/passwd", dir.join("passwd.md")).unwrap();
    let made = std::process::Command::new("mkfifo").arg(dir.join("pipe.csv")).status().unwrap();
    assert!(made.success());
    std::fs::write(dir.join("result.json"), "{}").unwrap();

    let listed: Vec<Value> = api.get(&format!("/jobs/{id}/artifacts")).await.json().await.unwrap();
    assert_eq!(listed.len(), 1, "only the regular file: {listed:?}");
    let started = Instant::now();
    for name in ["passwd.md", "pipe.csv"] {
        let response = api.get(&format!("/jobs/{id}/artifacts/{name}")).await;
        assert_eq!(response.status(), 404, "{name}");
    }
    assert!(started.elapsed() < Duration::from_secs(2), "opening the FIFO did not block");
}

#[tokio::test]
async fn a_job_directory_that_is_a_symlink_is_not_followed() {
    let api = spawn_api().await;
    let job =
        api.submit(&json!({"kind": "analysis", "input": {"task": "journal", "text": "a"}})).await;
    let id = job["id"].as_str().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(elsewhere.path().join("secret.json"), "{}").unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), api.results.path().join(id)).unwrap();
    let listed: Vec<Value> = api.get(&format!("/jobs/{id}/artifacts")).await.json().await.unwrap();
    assert!(listed.is_empty());
    assert_eq!(api.get(&format!("/jobs/{id}/artifacts/secret.json")).await.status(), 404);
}

#[tokio::test]
async fn names_that_are_not_plain_file_names_are_refused() {
    let api = spawn_api().await;
    let (id, _) = job_with_dir(&api).await;
    for name in [".hidden", "a%2Fb", "x%22y", "%C3%A9.md"] {
        let response = api.get(&format!("/jobs/{id}/artifacts/{name}")).await;
        assert_eq!(response.status(), 400, "{name}");
    }
}

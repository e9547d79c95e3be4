//! docker-compose.yml (production), docker-compose.override.yml (development) and
//! docker-compose.gpu.yml.

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml_ng::Value;
use shared::config::settings;

use crate::helpers::{
    BASE, COMPOSE_FILES, GPU, OVERRIDE, compose, duration_seconds, env_example, read, scalar,
    services, strings, variables,
};

const APPS: [&str; 2] = ["api", "worker"];

fn service<'a>(file: &'a Value, name: &str) -> &'a Value {
    let service = &file["services"][name];
    assert!(service.is_mapping(), "service {name} is missing");
    service
}

#[test]
fn production_runs_the_promised_services() {
    let names: BTreeSet<String> = services(&compose(BASE)).into_iter().map(|(n, _)| n).collect();
    let expected = ["api", "ollama", "ollama-pull", "postgres", "redis", "worker"];
    assert_eq!(names, expected.iter().map(|s| s.to_string()).collect());
}

#[test]
fn api_and_worker_are_one_image_picking_its_binary_with_command() {
    let file = compose(BASE);
    let (api, worker) = (service(&file, "api"), service(&file, "worker"));
    assert_eq!(api["image"], worker["image"]);
    assert_eq!(api["build"]["target"], "runtime");
    assert_eq!(strings(&api["command"]), ["api"]);
    assert_eq!(strings(&worker["command"]), ["worker"]);
}

/// Compose builds services in parallel (buildx bake): two services building one tag collide
/// on a first build ("image already exists"), so each tag has one builder in every combination.
#[test]
fn no_two_services_build_the_same_image_tag() {
    let files: Vec<(&str, Value)> = COMPOSE_FILES.iter().map(|f| (*f, compose(f))).collect();
    for set in [vec![BASE], vec![BASE, OVERRIDE], vec![BASE, GPU], vec![BASE, OVERRIDE, GPU]] {
        let layers: Vec<&Value> =
            files.iter().filter(|(f, _)| set.contains(f)).map(|(_, y)| y).collect();
        let mut builders: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, _) in services(layers[0]) {
            let layer = |key: &'static str| {
                let name = name.clone();
                layers.iter().map(move |l| &l["services"][name.as_str()][key])
            };
            let image = layer("image").rfind(|v| !v.is_null()).map(scalar);
            if layer("build").any(|b| !b.is_null()) {
                let image =
                    image.unwrap_or_else(|| panic!("{set:?}: {name} builds an unnamed image"));
                builders.entry(image).or_default().push(name);
            }
        }
        for (image, services) in builders {
            assert_eq!(services.len(), 1, "{set:?}: {services:?} all build {image}");
        }
    }
}

#[test]
fn only_the_api_is_published_in_production() {
    for (name, def) in services(&compose(BASE)) {
        let ports = strings(&def["ports"]);
        if name == "api" {
            assert_eq!(
                ports,
                ["${API_BIND:-127.0.0.1}:${API_PORT:-8000}:8000"],
                "loopback by default"
            );
        } else {
            assert!(ports.is_empty(), "{name} publishes {ports:?}");
        }
        assert!(def["network_mode"].is_null(), "{name} leaves the compose network");
    }
}

/// The hardened deployment: nothing gains privileges, everything has memory and process
/// limits, our own binaries run read-only without capabilities, third-party images are pinned.
#[test]
fn every_service_is_confined() {
    let file = compose(BASE);
    for (name, def) in services(&file) {
        let security = strings(&def["security_opt"]);
        assert!(security.contains(&"no-new-privileges:true".to_owned()), "{name}: {security:?}");
        assert!(def["mem_limit"].as_str().is_some_and(|m| !m.is_empty()), "{name}: mem_limit");
        assert!(!def["pids_limit"].is_null(), "{name}: pids_limit");
        if let Some(image) = def["image"].as_str().filter(|i| !i.starts_with("tradeforge")) {
            assert!(
                !image.ends_with(":latest") && image.contains(':'),
                "{name}: {image} is not pinned"
            );
        }
    }
    for app in APPS {
        let def = service(&file, app);
        assert_eq!(def["read_only"], true, "{app}: read-only root file system");
        assert_eq!(strings(&def["cap_drop"]), ["ALL"], "{app}");
        assert!(def["cap_add"].is_null(), "{app} needs no capability");
        let tmpfs = strings(&def["tmpfs"]);
        assert!(tmpfs.iter().any(|t| t.starts_with("/tmp:")), "{app}: {tmpfs:?}");
    }
    for name in ["postgres", "redis", "ollama", "ollama-pull"] {
        assert_eq!(strings(&service(&file, name)["cap_drop"]), ["ALL"], "{name}");
        assert!(service(&file, name)["cap_add"].is_null(), "{name}");
    }
    for name in ["postgres", "redis"] {
        assert_eq!(service(&file, name)["read_only"], true, "{name}");
    }
    // Postgres and Redis start as their own users, so no root step needs a capability.
    for name in ["postgres", "redis"] {
        assert_eq!(service(&file, name)["user"], "999:999", "{name}");
    }
    // Development mode undoes the app hardening (cargo writes as root) and nothing else.
    let dev = compose(OVERRIDE);
    for app in APPS {
        assert_eq!(service(&dev, app)["read_only"], false, "{app}");
    }
}

/// Passwords are Docker secrets: files made by docker-up.sh, mounted only where needed, never
/// a value in any service's environment or on a command line.
#[test]
fn passwords_are_secrets_mounted_only_where_needed() {
    let file = compose(BASE);
    assert_eq!(file["secrets"]["postgres_password"]["file"], "./secrets/postgres_password");
    assert_eq!(file["secrets"]["redis_password"]["file"], "./secrets/redis_password");
    for (name, def) in services(&file) {
        let wanted: &[&str] = match name.as_str() {
            "postgres" => &["postgres_password"],
            "redis" => &["redis_password"],
            "api" | "worker" => &["postgres_password", "redis_password"],
            _ => &[],
        };
        assert_eq!(strings(&def["secrets"]), wanted, "{name}");
        if let Some(env) = def["environment"].as_mapping() {
            for (key, value) in env {
                let key = key.as_str().unwrap_or_default();
                if key.contains("PASSWORD") {
                    assert!(key.ends_with("_FILE"), "{name}: {key} = {value:?}");
                }
            }
        }
    }
    assert_eq!(
        service(&file, "postgres")["environment"]["POSTGRES_PASSWORD_FILE"],
        "/run/secrets/postgres_password"
    );
    let redis = strings(&service(&file, "redis")["command"]).join(" ");
    assert!(
        redis.contains("/run/secrets/redis_password") && redis.contains("/tmp/redis.conf"),
        "{redis}"
    );
    assert!(!redis.contains("--requirepass"), "the password stays off the command line: {redis}");
}

#[test]
fn the_worker_scales_in_every_file() {
    for file in COMPOSE_FILES {
        let file_yaml = compose(file);
        let Some(worker) = file_yaml["services"].get("worker") else { continue };
        assert!(worker["container_name"].is_null(), "{file}: a container_name stops --scale");
        assert!(worker["ports"].is_null(), "{file}: a host port stops --scale");
        assert!(worker["hostname"].is_null(), "{file}: replicas must not share a hostname");
    }
}

#[test]
fn a_stopping_worker_gets_longer_than_its_shutdown_timeout() {
    let worker = &compose(BASE)["services"]["worker"];
    let grace = duration_seconds(worker["stop_grace_period"].as_str().expect("stop_grace_period"));
    let drain: u64 = settings::SHUTDOWN_TIMEOUT_S.default.unwrap().parse().unwrap();
    assert!(grace >= drain + 10, "stop_grace_period {grace}s vs SHUTDOWN_TIMEOUT_S {drain}s");
    assert!(matches!(worker["stop_signal"].as_str(), None | Some("SIGTERM")));
}

#[test]
fn every_long_running_service_has_a_healthcheck_and_a_restart_policy() {
    for (name, def) in services(&compose(BASE)) {
        let restart = def["restart"].as_str().unwrap_or_default();
        if name == "ollama-pull" {
            assert_eq!(restart, "no", "the one-shot pull must not loop");
            continue;
        }
        assert!(["unless-stopped", "always"].contains(&restart), "{name}: restart {restart:?}");
        let test = strings(&def["healthcheck"]["test"]).join(" ");
        assert!(test.starts_with("CMD"), "{name}: healthcheck {test:?}");
    }
}

#[test]
fn healthchecks_use_each_service_own_probe() {
    let file = compose(BASE);
    let test = |name: &str| strings(&service(&file, name)["healthcheck"]["test"]);
    assert_eq!(test("api"), ["CMD", "api", "healthcheck"]);
    assert_eq!(test("worker"), ["CMD", "worker", "healthcheck"]);
    assert!(test("postgres").contains(&"pg_isready".to_owned()));
    let redis_probe = test("redis").join(" ");
    assert!(
        redis_probe.starts_with("CMD-SHELL") && redis_probe.contains("REDISCLI_AUTH"),
        "{redis_probe}"
    );
    assert!(redis_probe.contains("redis-cli ping"), "{redis_probe}");
    assert_eq!(test("ollama"), ["CMD", "ollama", "list"]);
}

#[test]
fn apps_start_after_healthy_dependencies_and_the_model_pull() {
    let file = compose(BASE);
    let conditions = |name: &str| -> BTreeMap<String, String> {
        let deps = service(&file, name)["depends_on"].as_mapping().expect("depends_on mapping");
        deps.iter().map(|(k, v)| (scalar(k), scalar(&v["condition"]))).collect()
    };
    let healthy = "service_healthy".to_owned();
    for app in APPS {
        let expected = BTreeMap::from([
            ("ollama".to_owned(), healthy.clone()),
            ("ollama-pull".to_owned(), "service_completed_successfully".to_owned()),
            ("postgres".to_owned(), healthy.clone()),
            ("redis".to_owned(), healthy.clone()),
        ]);
        assert_eq!(conditions(app), expected, "{app}");
    }
    assert_eq!(conditions("ollama-pull"), BTreeMap::from([("ollama".to_owned(), healthy)]));
    let pull = strings(&service(&file, "ollama-pull")["command"]).join(" ");
    assert!(pull.contains("ollama pull \"$$OLLAMA_MODEL\""), "{pull}");
    let pull_env = &service(&file, "ollama-pull")["environment"];
    assert_eq!(pull_env["OLLAMA_MODEL"], "${OLLAMA_MODEL:-qwen2.5:3b}");
}

#[test]
fn state_lives_in_named_volumes_and_results_on_the_host() {
    let file = compose(BASE);
    let declared: BTreeSet<String> =
        file["volumes"].as_mapping().unwrap().keys().map(scalar).collect();
    let mounts = |name: &str| strings(&service(&file, name)["volumes"]);
    assert_eq!(mounts("postgres"), ["postgres-data:/var/lib/postgresql/data"]);
    assert_eq!(mounts("redis"), ["redis-data:/data"]);
    assert_eq!(mounts("ollama"), ["ollama-models:/root/.ollama"]);
    for volume in ["postgres-data", "redis-data", "ollama-models"] {
        assert!(declared.contains(volume), "volume {volume} is not declared");
    }
    assert_eq!(mounts("worker"), ["./results:/results", "./data:/data:ro"]);
    // The api reads results and data (GET /forecast reads a model's CSV again), never writes.
    assert_eq!(mounts("api"), ["./results:/results:ro", "./data:/data:ro"]);
    let redis = strings(&service(&file, "redis")["command"]).join(" ");
    assert!(redis.contains("--appendonly yes"), "Redis persists with AOF: {redis}");
}

#[test]
fn apps_read_dot_env_where_it_exists_and_get_in_network_urls() {
    let file = compose(BASE);
    for app in APPS {
        let def = service(&file, app);
        let env_file = &def["env_file"][0];
        assert_eq!(env_file["path"], ".env", "{app}");
        assert_eq!(env_file["required"], false, "{app}: .env is optional");
        let env = &def["environment"];
        assert_eq!(env["REDIS_URL"], "redis://redis:6379", "{app}");
        assert_eq!(env["OLLAMA_URL"], "http://ollama:11434", "{app}");
        let database = env["DATABASE_URL"].as_str().unwrap();
        assert!(database.starts_with("postgres://"), "{app}: {database}");
        assert!(database.contains("@postgres:5432/"), "{app}: {database}");
        let userinfo = database.trim_start_matches("postgres://").split('@').next().unwrap();
        let user = userinfo.replace(":-", "");
        assert!(!user.contains(':'), "{app}: a password in {database}");
        assert_eq!(env["DATABASE_PASSWORD_FILE"], "/run/secrets/postgres_password", "{app}");
        assert_eq!(env["REDIS_PASSWORD_FILE"], "/run/secrets/redis_password", "{app}");
        assert_eq!(strings(&def["secrets"]), ["postgres_password", "redis_password"], "{app}");
        assert_eq!(env["RESULTS_DIR"], "/results");
        assert_eq!(env["DATA_DIR"], "/data");
        // The healthcheck subcommands read these, so they must match the container's ports.
        assert_eq!(env["API_ADDR"], "0.0.0.0:8000");
        assert_eq!(env["WORKER_HEALTH_ADDR"], "0.0.0.0:9000");
        let user = def["user"].as_str().unwrap_or_default();
        assert!(!user.is_empty() && !user.starts_with('0'), "{app} runs as {user:?}");
    }
}

#[test]
fn gpu_reservations_are_only_in_the_gpu_file() {
    for file in [BASE, OVERRIDE] {
        let text = read(file);
        assert!(!text.contains("nvidia") && !text.contains("deploy:"), "{file} reserves devices");
    }
    let gpu = compose(GPU);
    for (name, count) in [("worker", "${WORKER_GPUS:-1}"), ("ollama", "${OLLAMA_GPUS:-all}")] {
        let devices = &gpu["services"][name]["deploy"]["resources"]["reservations"]["devices"];
        let device = &devices[0];
        assert_eq!(devices.as_sequence().map(Vec::len), Some(1), "{name}");
        assert_eq!(device["driver"], "nvidia", "{name}");
        assert_eq!(device["count"], count, "{name}");
        assert_eq!(strings(&device["capabilities"]), ["gpu"], "{name}");
    }
    assert_eq!(gpu["services"]["worker"]["build"]["target"], "runtime-gpu");
    let images = (&gpu["services"]["worker"]["image"], &compose(BASE)["services"]["api"]["image"]);
    assert_ne!(images.0, images.1, "the GPU worker image must not replace the CPU api image");
}

#[test]
fn development_mode_hot_reloads_and_publishes_databases_on_loopback() {
    let dev = compose(OVERRIDE);
    for app in APPS {
        let def = service(&dev, app);
        let command = strings(&def["command"]).join(" ");
        assert!(command.starts_with("cargo watch") && command.contains("run --bin"), "{command}");
        assert!(strings(&def["volumes"]).contains(&".:/app".to_owned()), "{app} mounts the source");
        assert_eq!(def["environment"]["RUST_LOG"], "debug");
        assert_eq!(def["image"], "tradeforge:dev", "{app} runs the toolchain image");
    }
    assert_eq!(service(&dev, "api")["build"]["target"], "dev");
    assert_eq!(
        strings(&service(&dev, "postgres")["ports"]),
        ["127.0.0.1:${POSTGRES_PORT:-5432}:5432"]
    );
    assert_eq!(strings(&service(&dev, "redis")["ports"]), ["127.0.0.1:${REDIS_PORT:-6379}:6379"]);
}

#[test]
fn every_interpolated_variable_is_in_env_example_with_the_same_default() {
    let listed: BTreeMap<String, String> =
        env_example().into_iter().map(|e| (e.name, e.value)).collect();
    for file in COMPOSE_FILES {
        for var in variables(&read(file)) {
            let listed = listed.get(&var.name);
            assert!(listed.is_some(), "{file}: ${{{}}} is not in .env.example", var.name);
            match (&var.default, var.required) {
                (Some(default), _) => assert_eq!(Some(default), listed, "{file}: {}", var.name),
                (None, true) => {}
                (None, false) => {
                    panic!("{file}: ${{{}}} has no default and is not required", var.name)
                }
            }
        }
    }
}

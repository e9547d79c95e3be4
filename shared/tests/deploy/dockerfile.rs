//! The Dockerfiles' promises (hadolint, run by scripts/validate-deploy.sh, checks their style):
//! `Dockerfile` builds the CPU images, `Dockerfile.gpu` the GPU worker.

use std::collections::BTreeMap;

use crate::helpers::{GPU, OVERRIDE, compose, read};

/// One instruction, continuation lines joined.
#[derive(Debug)]
struct Instruction {
    keyword: String,
    args: String,
}

/// A build stage: `FROM <image> AS <name>` and what follows it.
#[derive(Debug)]
struct Stage {
    image: String,
    name: String,
    body: Vec<Instruction>,
}

struct Dockerfile {
    /// `ARG` defaults declared before the first `FROM` (usable in `FROM` lines).
    args: BTreeMap<String, String>,
    stages: Vec<Stage>,
}

impl Dockerfile {
    /// `Dockerfile`, the CPU images.
    fn parse() -> Self {
        Self::parse_file("Dockerfile")
    }

    /// `Dockerfile.gpu`, the GPU worker.
    fn gpu() -> Self {
        Self::parse_file("Dockerfile.gpu")
    }

    fn parse_file(path: &str) -> Self {
        let text = read(path).replace("\\\n", " ");
        let mut file = Dockerfile { args: BTreeMap::new(), stages: Vec::new() };
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let (keyword, args) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let (keyword, args) = (keyword.to_ascii_uppercase(), args.trim().to_owned());
            if keyword == "FROM" {
                let words: Vec<&str> = args.split_whitespace().collect();
                let name = match words.as_slice() {
                    [_, as_, name] if as_.eq_ignore_ascii_case("as") => name.to_string(),
                    _ => panic!("every stage is named: FROM {args}"),
                };
                file.stages.push(Stage { image: file.expand(words[0]), name, body: Vec::new() });
            } else if let Some(stage) = file.stages.last_mut() {
                stage.body.push(Instruction { keyword, args });
            } else if keyword == "ARG" {
                let (name, value) = args.split_once('=').unwrap_or((&args, ""));
                file.args.insert(name.to_owned(), value.to_owned());
            }
        }
        file
    }

    /// Replaces `${ARG}` with the global ARG defaults.
    fn expand(&self, text: &str) -> String {
        self.args.iter().fold(text.to_owned(), |t, (k, v)| t.replace(&format!("${{{k}}}"), v))
    }

    fn stage(&self, name: &str) -> &Stage {
        self.stages.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no stage {name}"))
    }
}

impl Stage {
    fn all(&self, keyword: &str) -> Vec<&str> {
        self.body.iter().filter(|i| i.keyword == keyword).map(|i| i.args.as_str()).collect()
    }

    fn position(&self, keyword: &str, needle: &str) -> usize {
        self.body
            .iter()
            .position(|i| i.keyword == keyword && i.args.contains(needle))
            .unwrap_or_else(|| panic!("stage {}: no {keyword} containing {needle:?}", self.name))
    }
}

#[test]
fn the_default_target_is_the_small_cpu_runtime_with_both_binaries() {
    let file = Dockerfile::parse();
    let last = file.stages.last().unwrap();
    assert_eq!(last.name, "runtime");
    assert!(last.image.ends_with("-slim"), "small base image: {}", last.image);
    assert_eq!(Dockerfile::gpu().stages.last().unwrap().name, "runtime-gpu");
    for (file, runtime) in [(file, "runtime"), (Dockerfile::gpu(), "runtime-gpu")] {
        let copies = file.stage(runtime).all("COPY").join(" ");
        for binary in ["release/api", "release/worker"] {
            assert!(copies.contains(binary), "{runtime} lacks {binary}: {copies}");
        }
    }
}

/// Docker's classic builder (Compose's fallback without buildx) builds every stage above the
/// target: nothing of CUDA may sit in the file the CPU targets are built from.
#[test]
fn a_cpu_build_never_touches_cuda() {
    let file = Dockerfile::parse();
    let text = read("Dockerfile");
    for stage in &file.stages {
        assert!(!stage.image.contains("nvidia"), "{} is FROM {}", stage.name, stage.image);
    }
    for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
        assert!(!line.to_ascii_lowercase().contains("cuda"), "CUDA in Dockerfile: {line}");
    }
    let cpu_targets = ["runtime", "dev"];
    for target in cpu_targets {
        let at = file.stages.iter().position(|s| s.name == target).unwrap();
        let above: Vec<&str> = file.stages[..at].iter().map(|s| s.name.as_str()).collect();
        assert!(
            above.iter().all(|s| ["chef", "dev", "planner", "builder"].contains(s)),
            "{target}: {above:?}"
        );
    }
    // `dev` right after the toolchain: a dev build needs no release stage above it.
    let names: Vec<&str> = file.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["chef", "dev", "planner", "builder", "runtime"]);
}

#[test]
fn builder_and_runtime_share_a_debian_release_and_so_a_glibc() {
    let file = Dockerfile::parse();
    let release = |image: &str| {
        image
            .rsplit(['-', ':'])
            .find(|w| w.starts_with("bookworm") || w.starts_with("trixie"))
            .map(str::to_owned)
    };
    let (chef, runtime) = (&file.stage("chef").image, &file.stage("runtime").image);
    assert!(chef.starts_with("rust:"), "{chef}");
    assert!(release(chef).is_some() && release(chef) == release(runtime), "{chef} vs {runtime}");
    // The GPU pair: NVIDIA's devel and runtime images of one CUDA version on one Ubuntu release.
    let gpu_file = Dockerfile::gpu();
    let (devel, gpu) = (&gpu_file.stage("chef-gpu").image, &gpu_file.stage("runtime-gpu").image);
    assert!(devel.starts_with("nvidia/cuda:") && gpu.starts_with("nvidia/cuda:"), "{devel} {gpu}");
    assert_eq!(devel.replace("-devel-", "-runtime-"), *gpu);
    // One toolchain and one cargo-chef for both files.
    for arg in ["RUST_VERSION", "DEBIAN_RELEASE", "CARGO_CHEF_VERSION", "APP_UID"] {
        assert_eq!(file.args.get(arg), gpu_file.args.get(arg), "{arg} differs between the files");
    }
}

#[test]
fn dependencies_are_cooked_in_their_own_layer_before_the_source_is_copied() {
    let (cpu, gpu) = (Dockerfile::parse(), Dockerfile::gpu());
    assert!(cpu.stage("planner").all("RUN").iter().any(|r| r.contains("cargo chef prepare")));
    assert!(gpu.stage("planner-gpu").all("RUN").iter().any(|r| r.contains("cargo chef prepare")));
    for (file, builder, features) in
        [(&cpu, "builder", ""), (&gpu, "builder-gpu", "--features worker/cuda")]
    {
        let stage = file.stage(builder);
        let cook = stage.position("RUN", "cargo chef cook --release");
        let copy_source = stage.position("COPY", ". .");
        let build = stage.position("RUN", "cargo build --release");
        assert!(cook < copy_source && copy_source < build, "{builder}: cook, COPY . ., build");
        for step in [&stage.body[cook].args, &stage.body[build].args] {
            assert!(step.contains("--bin api --bin worker") && step.contains(features), "{step}");
        }
    }
}

#[test]
fn runtimes_run_as_a_non_root_user_owning_results_and_data() {
    for (file, name) in [(Dockerfile::parse(), "runtime"), (Dockerfile::gpu(), "runtime-gpu")] {
        let stage = file.stage(name);
        let user = file.expand(stage.all("USER").last().expect("a USER"));
        assert!(!user.starts_with("root") && !user.starts_with('0'), "{name} runs as {user}");
        let runs = stage.all("RUN").join(" ");
        assert!(runs.contains("mkdir -p /results /data"), "{name}: {runs}");
        assert!(runs.contains("chown tradeforge:tradeforge /results /data"), "{name}: {runs}");
    }
}

#[test]
fn healthchecks_are_the_binaries_own_subcommands_in_exec_form() {
    for (file, stage, binary) in
        [(Dockerfile::parse(), "runtime", "api"), (Dockerfile::gpu(), "runtime-gpu", "worker")]
    {
        let check = file.stage(stage).all("HEALTHCHECK").join(" ");
        assert!(check.ends_with(&format!("CMD [\"{binary}\", \"healthcheck\"]")), "{check}");
        let cmd = file.stage(stage).all("CMD").join(" ");
        assert_eq!(cmd, format!("[\"{binary}\"]"));
    }
}

#[test]
fn no_secret_or_env_file_enters_the_image() {
    for file in [Dockerfile::parse(), Dockerfile::gpu()] {
        for stage in &file.stages {
            for i in &stage.body {
                let upper = i.args.to_ascii_uppercase();
                if ["COPY", "ADD"].contains(&i.keyword.as_str()) {
                    assert!(!i.args.contains(".env"), "{}: {} {}", stage.name, i.keyword, i.args);
                }
                if ["ENV", "ARG"].contains(&i.keyword.as_str()) {
                    for secret in ["PASSWORD", "SECRET", "TOKEN", "DATABASE_URL"] {
                        assert!(
                            !upper.contains(secret),
                            "{}: {} {}",
                            stage.name,
                            i.keyword,
                            i.args
                        );
                    }
                }
            }
        }
    }
    let ignored: Vec<String> = read(".dockerignore").lines().map(str::to_owned).collect();
    for entry in ["target/", ".git/", ".env", ".env.*", "secrets/", "results/", "data/"] {
        assert!(ignored.iter().any(|l| l == entry), ".dockerignore lacks {entry}");
    }
}

#[test]
fn the_toolchain_is_at_least_the_workspace_rust_version() {
    let version = |v: &str| -> Vec<u32> { v.split('.').map(|n| n.parse().unwrap()).collect() };
    let manifest = read("Cargo.toml");
    let wanted = manifest.lines().find_map(|l| l.strip_prefix("rust-version = ")).unwrap();
    for file in [Dockerfile::parse(), Dockerfile::gpu()] {
        let image = version(&file.args["RUST_VERSION"]);
        assert!(image >= version(wanted.trim_matches('"')), "RUST_VERSION {image:?} < {wanted}");
    }
}

#[test]
fn every_build_target_compose_asks_for_exists() {
    let mut targets = vec![("Dockerfile".to_owned(), "runtime".to_owned())];
    for name in [GPU, OVERRIDE] {
        let yaml = compose(name);
        for app in ["api", "worker"] {
            let build = &yaml["services"][app]["build"];
            if let Some(target) = build["target"].as_str() {
                let file = build["dockerfile"].as_str().unwrap_or("Dockerfile");
                targets.push((file.to_owned(), target.to_owned()));
            }
        }
    }
    for (file, target) in targets {
        Dockerfile::parse_file(&file).stage(&target);
    }
}

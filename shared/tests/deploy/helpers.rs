use std::path::PathBuf;

use regex::Regex;
use serde_yaml_ng::Value;

pub const BASE: &str = "docker-compose.yml";
pub const OVERRIDE: &str = "docker-compose.override.yml";
pub const GPU: &str = "docker-compose.gpu.yml";
pub const COMPOSE_FILES: [&str; 3] = [BASE, OVERRIDE, GPU];

pub fn repo_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

pub fn read(name: &str) -> String {
    let path = repo_file(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// A compose file as YAML, anchors and aliases resolved.
/// A compose file with its `<<:` merge keys applied, as Compose reads it.
pub fn compose(name: &str) -> Value {
    let mut file: Value = serde_yaml_ng::from_str(&read(name))
        .unwrap_or_else(|e| panic!("{name} is not valid YAML: {e}"));
    file.apply_merge().unwrap_or_else(|e| panic!("{name}: merge keys: {e}"));
    file
}

/// `(service name, definition)` of every service in a compose file.
pub fn services(file: &Value) -> Vec<(String, &Value)> {
    let services = file["services"].as_mapping().expect("a services mapping");
    services
        .iter()
        .map(|(k, v)| (k.as_str().expect("service names are strings").into(), v))
        .collect()
}

/// A list of scalars; a mount in long syntax (`{type, source, target}`) reads as
/// `source:target`, as its short form would.
pub fn strings(value: &Value) -> Vec<String> {
    let item = |v: &Value| match v {
        Value::Mapping(m) if m.contains_key("target") => {
            format!("{}:{}", scalar(&v["source"]), scalar(&v["target"]))
        }
        other => scalar(other),
    };
    match value {
        Value::Sequence(items) => items.iter().map(item).collect(),
        Value::Null => Vec::new(),
        other => vec![item(other)],
    }
}

pub fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("expected a scalar, found {other:?}"),
    }
}

/// A `${NAME…}` reference in a compose file.
#[derive(Debug)]
pub struct VarRef {
    pub name: String,
    /// `${NAME:-default}` / `${NAME-default}`.
    pub default: Option<String>,
    /// `${NAME:?message}` / `${NAME?message}`: compose refuses to start without it.
    pub required: bool,
}

/// Every variable a compose file interpolates (`$$` is a literal dollar, not a reference).
pub fn variables(text: &str) -> Vec<VarRef> {
    let re =
        Regex::new(r"(\$*)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*)|(:?\?)([^}]*))?\}").unwrap();
    re.captures_iter(text)
        .filter(|c| c[1].len() % 2 == 0)
        .map(|c| VarRef {
            name: c[2].to_owned(),
            default: c.get(4).map(|m| m.as_str().to_owned()),
            required: c.get(5).is_some(),
        })
        .collect()
}

/// One `NAME=value` line of `.env.example`, with the comment line just above it.
#[derive(Debug)]
pub struct EnvEntry {
    pub name: String,
    pub value: String,
    pub comment: Option<String>,
    /// The `# ==== … ====` header of the group it is in.
    pub group: Option<String>,
}

pub fn env_example() -> Vec<EnvEntry> {
    let text = read(".env.example");
    let (mut entries, mut group, mut previous) = (Vec::new(), None, None::<&str>);
    for line in text.lines() {
        if let Some(header) = line.strip_prefix("# ====") {
            group = Some(header.trim_matches(|c| c == '=' || c == ' ').to_owned());
        } else if let Some((name, value)) = line.split_once('=').filter(|_| !line.starts_with('#'))
        {
            let comment = previous.and_then(|p| p.strip_prefix("# ")).map(str::to_owned);
            let (name, value) = (name.to_owned(), value.to_owned());
            entries.push(EnvEntry { name, value, comment, group: group.clone() });
        }
        previous = Some(line);
    }
    entries
}

/// `40s`, `1m30s`, `2m` → seconds.
pub fn duration_seconds(raw: &str) -> u64 {
    let re = Regex::new(r"(\d+)(h|m|s)").unwrap();
    assert!(re.replace_all(raw, "").is_empty(), "unsupported duration {raw:?}");
    re.captures_iter(raw)
        .map(|c| {
            let n: u64 = c[1].parse().unwrap();
            n * match &c[2] {
                "h" => 3600,
                "m" => 60,
                _ => 1,
            }
        })
        .sum()
}

//! What a pipeline hands back on success: the result stored in Postgres and its files.

use std::path::PathBuf;

pub struct JobOutput {
    pub result: serde_json::Value,
    pub files: Vec<Artifact>,
}

/// A file a pipeline produced, for `RESULTS_DIR/<job id>/<name>`.
pub struct Artifact {
    pub name: &'static str,
    pub contents: Contents,
}

pub enum Contents {
    Bytes(Vec<u8>),
    /// A file the pipeline already wrote under `RESULTS_DIR` (same file system), moved into
    /// place rather than read back into memory: model weights can be large.
    File(PathBuf),
}

impl Artifact {
    pub fn new(name: &'static str, bytes: impl Into<Vec<u8>>) -> Self {
        Self { name, contents: Contents::Bytes(bytes.into()) }
    }

    pub fn json(name: &'static str, value: &impl serde::Serialize) -> Self {
        Self::new(name, serde_json::to_vec_pretty(value).expect("artifacts serialise"))
    }

    pub fn file(name: &'static str, path: PathBuf) -> Self {
        Self { name, contents: Contents::File(path) }
    }
}

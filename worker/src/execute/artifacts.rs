//! Writing a job's files into `RESULTS_DIR/<job id>/`: each to a temporary name, then renamed
//! into place, so a reader (or a re-run) never sees a half-written file.

use std::path::Path;

use uuid::Uuid;

/// A file a pipeline produced.
pub struct Artifact {
    pub name: &'static str,
    pub bytes: Vec<u8>,
}

impl Artifact {
    pub fn new(name: &'static str, bytes: impl Into<Vec<u8>>) -> Self {
        Self { name, bytes: bytes.into() }
    }

    pub fn json(name: &'static str, value: &impl serde::Serialize) -> Self {
        Self::new(name, serde_json::to_vec_pretty(value).expect("artifacts serialise"))
    }
}

/// Writes every file; returns their names. All of it is one blocking task: each `tokio::fs`
/// call would be a hand-off to the blocking pool and back of its own (five per job).
pub async fn write_all(
    results_dir: &Path,
    job_id: Uuid,
    files: Vec<Artifact>,
) -> std::io::Result<Vec<String>> {
    let dir = results_dir.join(job_id.to_string());
    tokio::task::spawn_blocking(move || write_all_blocking(&dir, files))
        .await
        .map_err(|e| std::io::Error::other(format!("writing artifacts failed: {e}")))?
}

fn write_all_blocking(dir: &Path, files: Vec<Artifact>) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let mut names = Vec::with_capacity(files.len());
    for file in files {
        let tmp = dir.join(format!(".{}.{:08x}.tmp", file.name, rand::random::<u32>()));
        std::fs::write(&tmp, &file.bytes)?;
        std::fs::rename(&tmp, dir.join(file.name))?;
        names.push(file.name.to_owned());
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rewriting_a_job_replaces_its_files_whole() {
        let dir = tempfile::tempdir().unwrap();
        let id = Uuid::now_v7();
        write_all(dir.path(), id, vec![Artifact::new("a.txt", "first version, longer")])
            .await
            .unwrap();
        let names =
            write_all(dir.path(), id, vec![Artifact::new("a.txt", "second")]).await.unwrap();
        assert_eq!(names, ["a.txt"]);
        let job_dir = dir.path().join(id.to_string());
        assert_eq!(std::fs::read_to_string(job_dir.join("a.txt")).unwrap(), "second");
        let leftovers: Vec<_> = std::fs::read_dir(&job_dir).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary files left behind");
    }
}

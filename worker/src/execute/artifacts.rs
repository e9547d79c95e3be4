//! Writing a job's files into `RESULTS_DIR/<job id>/`: each to a temporary name, then renamed
//! into place, so a reader (or a re-run) never sees a half-written file. No file may exceed
//! `MAX_ARTIFACT_BYTES`: the volume is shared by every job.

use std::path::{Path, PathBuf};

use uuid::Uuid;

use crate::job::{Artifact, Contents};

#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// Retrying makes the same file: a permanent failure.
    #[error(
        "{name} would be {size} bytes, over the limit of {limit} bytes (MAX_ARTIFACT_BYTES); \
         ask for a smaller model (input_size, mlp_width)"
    )]
    TooLarge { name: &'static str, size: u64, limit: u64 },
    #[error("could not write results to RESULTS_DIR: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes every file; returns their names. All of it is one blocking task: each `tokio::fs`
/// call would be a hand-off to the blocking pool and back of its own (five per job).
pub async fn write_all(
    results_dir: &Path,
    job_id: Uuid,
    files: Vec<Artifact>,
    max_bytes: u64,
) -> Result<Vec<String>, ArtifactError> {
    let dir = results_dir.join(job_id.to_string());
    tokio::task::spawn_blocking(move || write_all_blocking(&dir, files, max_bytes))
        .await
        .map_err(|e| std::io::Error::other(format!("writing artifacts failed: {e}")))?
}

fn write_all_blocking(
    dir: &Path,
    files: Vec<Artifact>,
    max_bytes: u64,
) -> Result<Vec<String>, ArtifactError> {
    let staged: Vec<PathBuf> = files
        .iter()
        .filter_map(|f| match &f.contents {
            Contents::File(path) => Some(path.clone()),
            Contents::Bytes(_) => None,
        })
        .collect();
    let written = write_checked(dir, files, max_bytes);
    if written.is_err() {
        // Staged files not moved into place would stay in RESULTS_DIR for good.
        staged.iter().for_each(|path| {
            let _ = std::fs::remove_file(path);
        });
    }
    written
}

fn write_checked(
    dir: &Path,
    files: Vec<Artifact>,
    max_bytes: u64,
) -> Result<Vec<String>, ArtifactError> {
    // Every size first: a job over the limit leaves nothing behind.
    for file in &files {
        let size = match &file.contents {
            Contents::Bytes(bytes) => bytes.len() as u64,
            Contents::File(path) => std::fs::metadata(path)?.len(),
        };
        if size > max_bytes {
            return Err(ArtifactError::TooLarge { name: file.name, size, limit: max_bytes });
        }
    }
    std::fs::create_dir_all(dir)?;
    let mut names = Vec::with_capacity(files.len());
    for file in files {
        let tmp = dir.join(format!(".{}.{:08x}.tmp", file.name, rand::random::<u32>()));
        match file.contents {
            Contents::Bytes(bytes) => std::fs::write(&tmp, bytes)?,
            Contents::File(path) => std::fs::rename(path, &tmp)?,
        }
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
        write_all(dir.path(), id, vec![Artifact::new("a.txt", "first version, longer")], 1024)
            .await
            .unwrap();
        let names =
            write_all(dir.path(), id, vec![Artifact::new("a.txt", "second")], 1024).await.unwrap();
        assert_eq!(names, ["a.txt"]);
        let job_dir = dir.path().join(id.to_string());
        assert_eq!(std::fs::read_to_string(job_dir.join("a.txt")).unwrap(), "second");
        let leftovers: Vec<_> = std::fs::read_dir(&job_dir).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary files left behind");
    }

    #[tokio::test]
    async fn a_staged_file_is_moved_into_place() {
        let dir = tempfile::tempdir().unwrap();
        let staged = dir.path().join(".staging-x");
        std::fs::write(&staged, b"weights").unwrap();
        let id = Uuid::now_v7();
        write_all(dir.path(), id, vec![Artifact::file("model.bin", staged.clone())], 1024)
            .await
            .unwrap();
        assert!(!staged.exists());
        let written = std::fs::read(dir.path().join(id.to_string()).join("model.bin")).unwrap();
        assert_eq!(written, b"weights");
    }

    #[tokio::test]
    async fn a_file_over_the_limit_fails_the_job_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let id = Uuid::now_v7();
        let staged = dir.path().join(".staging-weights");
        std::fs::write(&staged, b"w").unwrap();
        let files = vec![
            Artifact::new("small.json", "{}"),
            Artifact::new("big.bin", vec![0; 2048]),
            Artifact::file("model.bin", staged.clone()),
        ];
        let err = write_all(dir.path(), id, files, 1024).await.unwrap_err();
        assert!(matches!(
            err,
            ArtifactError::TooLarge { name: "big.bin", size: 2048, limit: 1024 }
        ));
        assert!(err.to_string().contains("MAX_ARTIFACT_BYTES"), "{err}");
        assert!(!dir.path().join(id.to_string()).exists());
        assert!(!staged.exists(), "the staged file is cleaned up");
    }
}

//! The job-facing side of the worker, below both the executor and the pipelines: what a
//! running pipeline sees of its job ([`JobContext`]), how it fails ([`JobError`]), what it
//! hands back ([`JobOutput`]) and what it may use ([`Services`]). The executor (`execute`)
//! drives pipelines through these types; pipelines never reach back into the executor or the
//! process runtime.

mod context;
mod error;
mod model_status;
mod output;
mod services;

pub use context::{JobContext, StopReason};
pub use error::JobError;
pub use model_status::{ModelState, ModelStatus};
pub use output::{Artifact, Contents, JobOutput};
pub use services::Services;

//! The jobs this process is running, so that shutdown can stop them and hand them back.

use std::{collections::HashMap, sync::Mutex};

use shared::db::claims::ClaimToken;
use uuid::Uuid;

use crate::job::{JobContext, StopReason};

#[derive(Default)]
pub struct Inflight {
    jobs: Mutex<HashMap<Uuid, (ClaimToken, JobContext)>>,
}

impl Inflight {
    pub fn insert(&self, token: ClaimToken, ctx: JobContext) {
        self.jobs.lock().expect("inflight lock").insert(token.job_id, (token, ctx));
    }

    pub fn remove(&self, job_id: Uuid) {
        self.jobs.lock().expect("inflight lock").remove(&job_id);
    }

    pub fn len(&self) -> usize {
        self.jobs.lock().expect("inflight lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Asks every running pipeline to stop; returns their claims.
    pub fn stop_all(&self, reason: StopReason) -> Vec<ClaimToken> {
        let jobs = self.jobs.lock().expect("inflight lock");
        jobs.values()
            .map(|(token, ctx)| {
                ctx.stop(reason);
                token.clone()
            })
            .collect()
    }
}

//! The queue payload: a versioned pointer to a Postgres job, nothing more.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::job::JobKind;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueMessage {
    pub v: u32,
    pub job_id: Uuid,
    pub kind: JobKind,
}

impl QueueMessage {
    pub const VERSION: u32 = 1;

    pub fn new(job_id: Uuid, kind: JobKind) -> Self {
        Self { v: Self::VERSION, job_id, kind }
    }

    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("messages serialise")
    }

    /// Decodes raw bytes from Redis. Anything malformed is an error for the caller to log and
    /// acknowledge, never a reason to stop consuming (APALIS.md pitfall 5).
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        let msg: Self = serde_json::from_slice(bytes).map_err(|e| {
            format!(
                "undecodable message ({e}): {:?}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            )
        })?;
        if msg.v != Self::VERSION {
            return Err(format!("unsupported message version {} for job {}", msg.v, msg.job_id));
        }
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let msg = QueueMessage::new(Uuid::now_v7(), JobKind::Training);
        assert_eq!(QueueMessage::decode(&msg.encode()).unwrap(), msg);
    }

    #[test]
    fn garbage_and_unknown_versions_are_errors_not_panics() {
        assert!(QueueMessage::decode(b"\x00\xffnot json").is_err());
        assert!(
            QueueMessage::decode(
                br#"{"v":2,"job_id":"0190b6b2-8f1e-7c3a-9b1d-1a2b3c4d5e6f","kind":"analysis"}"#
            )
            .is_err()
        );
        assert!(QueueMessage::decode(br#"{"job_id":42}"#).is_err());
    }
}

//! Loading a job's bars off the async runtime, with the error mapped to a job error.

use shared::market::{self, Bar, DataSource};

use crate::{execute::JobError, runtime::Runtime};

pub async fn load_bars(
    rt: &Runtime,
    source: Option<&DataSource>,
    symbol: &str,
) -> Result<Vec<Bar>, JobError> {
    let (source, symbol, dir) = (source.cloned(), symbol.to_owned(), rt.config.data_dir.clone());
    tokio::task::spawn_blocking(move || market::load_bars(source.as_ref(), &symbol, &dir))
        .await
        .map_err(|e| JobError::transient(format!("loading market data panicked: {e}")))?
        .map_err(|e| {
            if e.is_permanent() {
                JobError::permanent(e.to_string())
            } else {
                JobError::transient(e.to_string())
            }
        })
}

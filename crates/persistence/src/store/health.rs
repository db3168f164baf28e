//! Readiness: the database answers, and knows every migration of this build.

use roost_domain::ports::{HealthStore, StoreResult, StoreStats};
use roost_domain::StoreError;

use super::DieselStore;
use crate::migrate::has_pending;

impl HealthStore for DieselStore {
    fn check_ready(&self) -> StoreResult<()> {
        let pending = self.read(|conn| has_pending(conn).map_err(StoreError::Unavailable))?;
        if pending {
            // Another node of an older build may be serving, or the schema was changed by hand.
            return Err(StoreError::Unavailable("the database lacks migrations of this build".into()));
        }
        Ok(())
    }

    fn stats(&self) -> StoreStats {
        let pool = self.pool.state();
        let (group_commits, group_committed_writes, group_commit_sizes) = self.appends.stats();
        StoreStats {
            connections: pool.connections,
            idle_connections: pool.idle_connections,
            max_connections: self.pool.max_size(),
            group_commits,
            group_committed_writes,
            group_commit_sizes,
        }
    }
}

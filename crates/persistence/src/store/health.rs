//! Readiness: the database answers, and knows every migration of this build.

use roost_domain::ports::{HealthStore, StoreResult};
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
}

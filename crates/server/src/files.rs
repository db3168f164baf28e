//! The file store at start-up, and `roost files sweep`.

use std::sync::Arc;

use anyhow::Context;
use roost_domain::ports::Ports;
use roost_domain::{IdGenerator, Service};
use roost_files::Files;
use roost_http::file_cleanup::{self, SweepReport};
use roost_persistence::DieselStore;

use crate::config::Config;

/// Opens the configured file store and checks it answers: an S3 bucket must exist already.
pub async fn open(config: &Config) -> anyhow::Result<Files> {
    let files = Files::open(&config.files).with_context(|| format!("cannot open the file store {}", config.files))?;
    files.check().await.with_context(|| {
        if config.files.starts_with("s3://") {
            format!(
                "cannot reach the file store {}: the bucket must exist, and the AWS_* variables must name its \
                 endpoint, region and credentials",
                config.files
            )
        } else {
            format!("cannot read the file store {}", config.files)
        }
    })?;
    Ok(files)
}

/// `roost files sweep`: reconciles the file store with the database and prints what it did.
pub fn sweep_command(config: &Config, store: DieselStore, ids: Arc<IdGenerator>, json: bool) -> anyhow::Result<()> {
    let service = Service::new(Ports::from_store(Arc::new(store)), ids, config.messages);
    let report = actix_web::rt::System::new().block_on(async {
        let files = open(config).await?;
        file_cleanup::sweep(&service, &files).await.context("the sweep failed")
    })?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("{}", describe(&report));
    }
    Ok(())
}

/// The sweep run at start-up, in the background: logged, never fatal.
pub async fn sweep_at_start(service: Service, files: Files) {
    match file_cleanup::sweep(&service, &files).await {
        Ok(report) if report == SweepReport::default() => tracing::debug!("file store and database agree"),
        Ok(report) => tracing::info!(?report, "file sweep: {}", describe(&report)),
        Err(error) => tracing::warn!(error = %error, "the start-up file sweep failed; `roost files sweep` retries it"),
    }
}

fn describe(report: &SweepReport) -> String {
    format!(
        "{} unreferenced file(s) marked removed; {} removed file(s) deleted; {} orphaned object(s) deleted \
         ({} recent kept); {} record(s) whose bytes were gone deleted",
        report.unreferenced, report.removed, report.orphaned_bytes, report.recent_kept, report.missing_bytes
    )
}

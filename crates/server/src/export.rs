//! `roost export APP_ID DIR`: an application's data as the four import files, so that
//! `POST /v1/imports/…` on another Roost brings it over unchanged.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use roost_domain::service::ExportFile;
use roost_domain::{ApplicationId, Service};

/// The files written, in the order they import in.
const FILES: [(ExportFile, &str); 4] = [
    (ExportFile::Users, "users.json"),
    (ExportFile::Channels, "channels.json"),
    (ExportFile::Members, "members.json"),
    (ExportFile::Messages, "messages.json"),
];

/// What one file holds.
#[derive(serde::Serialize)]
struct Written {
    file: &'static str,
    records: u64,
    skipped: u64,
}

/// Writes the application's four import files into `dir` (created if need be). Each file is
/// written to `NAME.partial` and renamed when complete, so a file there is never half-written.
pub fn export_command(service: &Service, application_id: ApplicationId, dir: &Path, json: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    for (file, name) in FILES {
        let path = dir.join(name);
        let partial = dir.join(format!("{name}.partial"));
        let (records, skipped) = write_file(service, application_id, file, &partial)
            .with_context(|| format!("cannot export {name} of application {}", application_id.0))?;
        std::fs::rename(&partial, &path).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(Written { file: name, records, skipped });
    }
    if json {
        println!("{}", serde_json::to_string(&written)?);
    } else {
        for w in &written {
            let skipped =
                if w.skipped > 0 { format!(" ({} file messages left out)", w.skipped) } else { String::new() };
            println!("{}: {} records{skipped}", dir.join(w.file).display(), w.records);
        }
    }
    Ok(())
}

/// One file: a JSON array written a page at a time (memory stays flat whatever the size).
fn write_file(
    service: &Service,
    application_id: ApplicationId,
    file: ExportFile,
    path: &Path,
) -> anyhow::Result<(u64, u64)> {
    let mut out = BufWriter::new(File::create(path)?);
    out.write_all(b"[")?;
    let (mut after, mut records, mut skipped) = (None, 0_u64, 0_u64);
    loop {
        let page = service.export_page(application_id, file, after)?;
        for record in &page.records {
            out.write_all(if records == 0 { b"\n" } else { b",\n" })?;
            serde_json::to_writer(&mut out, record)?;
            records += 1;
        }
        skipped += page.skipped;
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    out.write_all(b"\n]\n")?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok((records, skipped))
}

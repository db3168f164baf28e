//! Reading one cursor page (25 messages) from a channel of 10 000 messages and from one of
//! 1 000 000, side by side in one run: the page is a keyset range on `(thread_id, id)`, so both
//! must cost the same. Run with `just bench` (or `cargo bench -p roost-persistence --bench
//! cursor_page`); set `ROOST_BENCH_POSTGRES_URL` to measure PostgreSQL as well.
//!
//! After both are seeded, another channel gets 20 000 newer messages, as a live application's
//! would, so a plan that scans all messages newest-first shows up as a slow page.
//!
//! Seeding writes the messages with one set-based INSERT per channel (the per-message API path
//! is measured by the performance benchmark); reads go through the real store: pool checkout,
//! query, row conversion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a benchmark fails by panicking")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use rand::Rng;
use roost_domain::model::application::{Application, ApplicationSettings, OAuthClient, Organization};
use roost_domain::model::channel::{ChannelType, NewChannel};
use roost_domain::model::cursor::{CursorRequest, KeyRange};
use roost_domain::model::message::{MessageFilter, MessageRules, MessageScope};
use roost_domain::ports::{ApplicationStore, MessageStore};
use roost_domain::{now, ApplicationId, IdGenerator, OrganizationId, Ports, Principal, Properties, Service};
use roost_persistence::{DatabaseUrl, DieselStore, PoolSettings};

// One copy of the benchmarks' bulk load, owned by roost-bench.
#[path = "../../bench/src/bulk_load.rs"]
mod bulk_load;
use bulk_load::bulk_load_messages;

const PAGE: u32 = 25;
const READS: usize = 2_000;
/// Messages posted to another channel after both measured channels were seeded.
const CHATTER: i64 = 20_000;

struct Sized {
    label: &'static str,
    messages: i64,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1e6
}

fn run(label: &str, raw_url: &str) -> Vec<serde_json::Value> {
    let url = DatabaseUrl::parse(raw_url).unwrap();
    let ids = Arc::new(IdGenerator::new(7).unwrap());
    let store = DieselStore::open(&url, &PoolSettings::default(), Arc::clone(&ids)).unwrap();
    let org = Organization { id: OrganizationId(ids.next_id()), name: "bench".into(), created_time: now() };
    let app = Application {
        id: ApplicationId(ids.next_id()),
        organization_id: org.id,
        key: format!("bench-{}", ids.next_id()),
        name: "bench".into(),
        created_time: now(),
        version: 1,
        updated_time: None,
        properties: Properties::new(),
        settings: ApplicationSettings::default(),
    };
    let client = OAuthClient {
        client_id: format!("bench-{}", app.id),
        application_id: app.id,
        organization_id: org.id,
        secret_hash: "x".into(),
        created_time: now(),
    };
    store.create_application(Some(&org), &app, &client).unwrap();
    let store = Arc::new(store);
    let service = Service::new(Ports::from_store(Arc::clone(&store)), Arc::clone(&ids), MessageRules::default());
    let principal =
        Principal::Application { application_id: app.id, organization_id: org.id, client_id: client.client_id };

    let sizes = [Sized { label: "10k", messages: 10_000 }, Sized { label: "1M", messages: 1_000_000 }];
    let mut channels = Vec::new();
    for (i, size) in sizes.iter().enumerate() {
        let input = NewChannel {
            channel_type: ChannelType::Public,
            name: Some(format!("bench-{}", size.label)),
            display_name: None,
            creator: None,
            members: vec![],
            properties: Properties::new(),
        };
        let channel = service.create_channel(&principal, input).unwrap().value;
        let first_id = (i64::try_from(i).unwrap() + 1) * 10_000_000_000;
        let started = Instant::now();
        // The load also refreshes statistics and (SQLite) folds the WAL back into the file, so
        // neither channel's reads pay for the other's seeding.
        bulk_load_messages(&url, app.id.0, channel.id.0, channel.main_thread_id.0, first_id, size.messages).unwrap();
        eprintln!("{label}: seeded {} messages in {:.1} s", size.messages, started.elapsed().as_secs_f64());
        channels.push((size, channel, first_id));
    }
    // Other channels then get newer messages than both, as in any live application: a page
    // plan that walks the primary key backwards and filters on the thread would now read
    // all of these before the first row of the channel it wants (PostgreSQL picked that plan
    // for a channel holding most rows).
    let chatter = service
        .create_channel(
            &principal,
            NewChannel {
                channel_type: ChannelType::Public,
                name: Some("bench-chatter".into()),
                display_name: None,
                creator: None,
                members: vec![],
                properties: Properties::new(),
            },
        )
        .unwrap()
        .value;
    bulk_load_messages(&url, app.id.0, chatter.id.0, chatter.main_thread_id.0, 90_000_000_000, CHATTER).unwrap();
    eprintln!("{label}: seeded {CHATTER} newer messages in another channel");

    let mut rng = rand::rng();
    let mut results = Vec::new();
    println!("\n{label}: one cursor page of {PAGE} messages, {READS} reads each (random positions in the history, plus the newest page)");
    println!(
        "{:<8} {:>12} {:>10} {:>10} {:>10} {:>16}",
        "channel", "messages", "p50 µs", "p99 µs", "max µs", "newest p50 µs"
    );
    // Reads alternate between the channels, so anything else the machine does hits both alike.
    let mut timings: Vec<Vec<Duration>> = vec![Vec::with_capacity(READS); channels.len()];
    // The newest page alone too: it is the one a plan walking all messages newest-first hurts.
    let mut newest: Vec<Vec<Duration>> = vec![Vec::with_capacity(READS / 10); channels.len()];
    for i in 0..READS + 200 {
        for (c, (size, channel, first_id)) in channels.iter().enumerate() {
            let range = if i % 10 == 0 {
                KeyRange::Newest
            } else {
                KeyRange::Before(first_id + rng.random_range(26..=size.messages))
            };
            let request = CursorRequest { size: PAGE, range };
            let scope = MessageScope::Thread(channel.main_thread_id);
            let started = Instant::now();
            let page = store.list_messages(app.id, &scope, &MessageFilter::default(), &request).unwrap();
            let elapsed = started.elapsed();
            assert_eq!(page.items.len(), PAGE as usize);
            if i >= 200 {
                timings[c].push(elapsed);
                if i % 10 == 0 {
                    newest[c].push(elapsed);
                }
            }
        }
    }
    for (((size, _, _), mut timings), mut newest) in channels.iter().zip(timings).zip(newest) {
        timings.sort();
        newest.sort();
        let (p50, p99, max) = (percentile(&timings, 0.50), percentile(&timings, 0.99), percentile(&timings, 1.0));
        let newest_p50 = percentile(&newest, 0.50);
        println!(
            "{:<8} {:>12} {:>10.0} {:>10.0} {:>10.0} {:>16.0}",
            size.label, size.messages, p50, p99, max, newest_p50
        );
        results.push(serde_json::json!({"backend": label, "channel": size.label, "messages": size.messages, "page_size": PAGE, "reads": READS, "p50_us": p50, "p99_us": p99, "newest_p50_us": newest_p50}));
    }
    let ratio = |key: &str| results[1][key].as_f64().unwrap() / results[0][key].as_f64().unwrap();
    println!("{label}: 1M / 10k ratio: p50 {:.2}, p99 {:.2} (target: within 2x)", ratio("p50_us"), ratio("p99_us"));
    results
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    let mut results = run("sqlite", &sqlite);
    if let Ok(pg) = std::env::var("ROOST_BENCH_POSTGRES_URL") {
        // A schema of its own, dropped afterwards.
        let schema = format!("roost_bench_{}", std::process::id());
        PgConnection::establish(&pg).unwrap().batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
        let separator = if pg.contains('?') { '&' } else { '?' };
        results.extend(run("postgres", &format!("{pg}{separator}options=-csearch_path%3D{schema}")));
        PgConnection::establish(&pg).unwrap().batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).unwrap();
    }
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("cursor_page.json"), serde_json::to_string_pretty(&results).unwrap()).unwrap();
}

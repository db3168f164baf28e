//! The `roost` binary: configuration, command line, wiring, migrations at start-up and graceful
//! shutdown. Everything else lives in the library crates.

mod config;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, HttpServer};
use anyhow::Context;
use clap::{Parser, Subcommand};
use roost_auth::provision::{self, Provisioned};
use roost_auth::SecretHasher;
use roost_domain::ports::{ApplicationStore, CredentialStore, Ports};
use roost_domain::{now, ApplicationId, IdGenerator};
use roost_http::{AppState, HttpSettings};
use roost_persistence::DieselStore;

use crate::config::Config;

/// mimalloc spends less CPU than glibc's malloc on a request's short-lived buffers (issue 4:
/// uncached pages +15–25 %); its arena is committed as used (`.cargo/config.toml`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Roost: a self-hostable chat platform server speaking the ChatKitty Platform REST API.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Configuration file (optional; ROOST_* environment variables override it).
    #[arg(long, env = "ROOST_CONFIG", default_value = "roost.toml", global = true)]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage applications.
    #[command(subcommand)]
    Apps(AppsCommand),
    /// Manage OAuth clients.
    #[command(subcommand)]
    Clients(ClientsCommand),
}

#[derive(Subcommand)]
enum AppsCommand {
    /// Create an application with a client credential; the secret is printed once.
    Create {
        /// Application name.
        name: String,
        /// Print JSON: {"application_id", "client_id", "client_secret"}.
        #[arg(long)]
        json: bool,
    },
    /// List applications and their client ids.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ClientsCommand {
    /// Issue a new client secret; the old one and its tokens stop working at once.
    Rotate {
        /// Application id.
        app_id: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging();
    let config = config::load(&cli.config)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::Migrate => {
            let applied = roost_persistence::migrate::run_migrations(&config.database)?;
            println!("{} migration(s) applied to {}", applied.len(), config.database.redacted());
            Ok(())
        }
        Command::Apps(AppsCommand::Create { name, json }) => {
            let store = open_store_for_command(&config)?;
            let ids = IdGenerator::new(config.node_id)?;
            let created = provision::create_application(&store, &ids, &SecretHasher::owasp()?, &name, now())?;
            print_credentials(&created, json);
            Ok(())
        }
        Command::Apps(AppsCommand::List { json }) => list_applications(&open_store_for_command(&config)?, json),
        Command::Clients(ClientsCommand::Rotate { app_id, json }) => {
            let store = open_store_for_command(&config)?;
            let rotated =
                provision::rotate_client_secret(&store, &store, &SecretHasher::owasp()?, ApplicationId(app_id))
                    .with_context(|| format!("cannot rotate the client of application {app_id}"))?;
            print_credentials(&rotated, json);
            Ok(())
        }
    }
}

/// Logs go to stderr; credentials printed by commands go to stdout, so the two never mix.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ROOST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).init();
}

fn open_store(config: &Config, ids: Arc<IdGenerator>) -> anyhow::Result<DieselStore> {
    open_store_with(config, &config.pool, ids)
}

/// The store for a one-shot command: one connection, opened when needed and never in the
/// background, so nothing is connecting when the process exits.
fn open_store_for_command(config: &Config) -> anyhow::Result<DieselStore> {
    let pool = roost_persistence::PoolSettings { max_size: 1, keep_idle: 0, ..config.pool.clone() };
    open_store_with(config, &pool, Arc::new(IdGenerator::new(config.node_id)?))
}

fn open_store_with(
    config: &Config,
    pool: &roost_persistence::PoolSettings,
    ids: Arc<IdGenerator>,
) -> anyhow::Result<DieselStore> {
    DieselStore::open(&config.database, pool, ids)
        .with_context(|| format!("cannot open the database {}", config.database.redacted()))
}

fn print_credentials(created: &Provisioned, json: bool) {
    if json {
        let value = serde_json::json!({
            "application_id": created.application.id.0,
            "client_id": created.client_id,
            "client_secret": created.client_secret,
        });
        println!("{value}");
    } else {
        println!("application: {} (id {})", created.application.name, created.application.id);
        println!("client_id:     {}", created.client_id);
        println!("client_secret: {}", created.client_secret);
        println!("The secret is shown only this once and is not stored; keep it safe.");
    }
}

fn list_applications(store: &DieselStore, json: bool) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for app in store.list_applications()? {
        let clients: Vec<String> = store.clients_of(app.id)?.into_iter().map(|c| c.client_id).collect();
        rows.push((app, clients));
    }
    if json {
        let list: Vec<_> = rows
            .iter()
            .map(|(app, clients)| {
                serde_json::json!({"application_id": app.id.0, "name": app.name, "key": app.key, "client_ids": clients})
            })
            .collect();
        println!("{}", serde_json::Value::Array(list));
    } else {
        for (app, clients) in rows {
            println!("{}\t{}\tkey {}\tclients {}", app.id, app.name, app.key, clients.join(","));
        }
    }
    Ok(())
}

#[actix_web::main]
async fn serve(config: Config) -> anyhow::Result<()> {
    let ids = Arc::new(IdGenerator::new(config.node_id)?);
    let store = Arc::new(open_store(&config, ids.clone())?);
    let hasher = Arc::new(SecretHasher::owasp()?);
    if config.bootstrap && store.first_organization()?.is_none() {
        let created = provision::create_application(store.as_ref(), &ids, &hasher, "Default application", now())?;
        println!("Roost created its first application on this empty database.");
        print_credentials(&created, false);
        println!(
            "Get a token: curl -u '{}:<client_secret>' -d grant_type=client_credentials http://{}/oauth/token",
            created.client_id, config.bind
        );
    }
    let settings = HttpSettings {
        public_url: config.public_url.clone(),
        tokens: roost_auth::TokenSettings { lifetime: config.token_lifetime, cache_for: config.token_cache },
        token_rate_per_second: config.token_rate_per_second,
        token_rate_burst: config.token_rate_burst,
        messages: config.messages,
        response_cache_bytes: config.response_cache_bytes,
        // One storage thread per database connection (see roost_http::workers).
        storage_threads: config.pool.max_size as usize,
        ..HttpSettings::default()
    };
    let state = web::Data::new(AppState::new(Ports::from_store(store), ids, hasher, settings)?);
    spawn_housekeeping(state.clone());
    let app_state = state.clone();
    let mut server = HttpServer::new(move || roost_http::app(app_state.clone())).shutdown_timeout(10);
    if let Some(workers) = config.workers {
        server = server.workers(workers);
    }
    let server = server.bind(config.bind).with_context(|| format!("cannot listen on {}", config.bind))?;
    for addr in server.addrs() {
        tracing::info!(%addr, database = %config.database.redacted(), "listening on http://{addr}");
    }
    // actix stops accepting on SIGINT/SIGTERM and lets in-flight requests finish.
    server.run().await?;
    tracing::info!("stopped");
    Ok(())
}

/// Every ten minutes: forget idle rate-limit keys and delete expired tokens.
fn spawn_housekeeping(state: web::Data<AppState>) {
    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(Duration::from_secs(600));
        loop {
            interval.tick().await;
            state.limiter.retain_recent();
            let purging = state.clone();
            match web::block(move || purging.auth.purge_expired_tokens(now())).await {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => tracing::info!(purged = n, "expired access tokens deleted"),
                Ok(Err(e)) => tracing::warn!(error = %e, "token purge failed"),
                Err(e) => tracing::warn!(error = %e, "token purge failed"),
            }
        }
    });
}

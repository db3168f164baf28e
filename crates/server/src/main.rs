//! The `roost` binary: configuration, command line, wiring, migrations at start-up and graceful
//! shutdown. Everything else lives in the library crates.

mod accounts;
mod broker;
mod config;
mod export;
mod files;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{web, HttpServer};
use anyhow::Context;
use clap::{Parser, Subcommand};
use roost_auth::provision::{self, Provisioned};
use roost_auth::SecretHasher;
use roost_domain::ports::{ApplicationStore, CredentialStore, Ports};
use roost_domain::{now, ApplicationId, IdGenerator};
use roost_http::{AppState, HttpSettings, MetricsExposure};
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
    /// Configuration file; it must exist. Without one, `roost.toml` is read when present.
    /// ROOST_* environment variables override it.
    #[arg(long, env = "ROOST_CONFIG", global = true)]
    config: Option<PathBuf>,
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
    /// Manage hosted files.
    #[command(subcommand)]
    Files(FilesCommand),
    /// The mail written for end users, and how its delivery went.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Manage end users' accounts.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Copy the live SQLite database to PATH, a consistent snapshot taken while the server
    /// runs and writes (`VACUUM INTO`); on PostgreSQL, use `pg_dump` instead.
    Backup {
        /// The backup file to write; it must not exist.
        path: PathBuf,
        /// Print JSON: {"path", "bytes"}.
        #[arg(long)]
        json: bool,
    },
    /// Write application APP_ID's users, channels, members and messages into DIR as the four
    /// import files (users.json, channels.json, members.json, messages.json), which
    /// `POST /v1/imports/…` on another Roost imports unchanged.
    Export {
        /// The application.
        app_id: i64,
        /// The directory to write into (created if need be).
        dir: PathBuf,
        /// Print JSON: [{"file", "records", "skipped"}].
        #[arg(long)]
        json: bool,
    },
    /// Print the API's OpenAPI 3.1 document (what `GET /v1/openapi.json` serves) and exit.
    Openapi,
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
    /// Rename an application.
    Rename {
        /// Application id.
        app_id: i64,
        /// The new name.
        name: String,
    },
    /// Delete an application and everything of it (clients, tokens, users, channels, messages)
    /// in one transaction. There is no undo.
    Delete {
        /// Application id.
        app_id: i64,
        /// Confirms the deletion; without it nothing is deleted.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// Print the mail written for end users (activation and reset tokens), oldest first, with
    /// its delivery (sent, waiting, abandoned).
    List {
        /// Print JSON: one object per mail.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Lift the lockout that failed logins put on an account, before it runs out.
    Unlock {
        /// Application id.
        app_id: i64,
        /// The user's name.
        username: String,
    },
}

#[derive(Subcommand)]
enum FilesCommand {
    /// Reconcile the file store with the database: delete the bytes no record refers to (older
    /// than an hour), the records whose bytes are gone, and what deletions left; report it.
    Sweep {
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
    if matches!(cli.command, Some(Command::Openapi)) {
        // Needs no configuration nor database: the document is part of the build.
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(roost_http::openapi_json())?;
        stdout.write_all(b"\n")?;
        return Ok(());
    }
    init_logging()?;
    let loaded = config::load(cli.config.as_deref())?;
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    let config = loaded.config;
    // The node's one id generator: the store draws message ids from it, the rest the use cases.
    let ids = Arc::new(IdGenerator::new(config.node_id)?);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config, ids),
        Command::Migrate => {
            let applied = roost_persistence::migrate::run_migrations(&config.database)?;
            println!("{} migration(s) applied to {}", applied.len(), config.database.describe());
            Ok(())
        }
        Command::Apps(AppsCommand::Create { name, json }) => {
            let store = open_store_for_command(&config, ids.clone())?;
            let created = provision::create_application(&store, &ids, &SecretHasher::owasp()?, &name, now())?;
            print_credentials(&created, json);
            Ok(())
        }
        Command::Apps(AppsCommand::List { json }) => list_applications(&open_store_for_command(&config, ids)?, json),
        Command::Apps(AppsCommand::Rename { app_id, name }) => {
            let store = open_store_for_command(&config, ids)?;
            let renamed = provision::rename_application(&store, ApplicationId(app_id), &name)
                .with_context(|| format!("cannot rename application {app_id}"))?;
            println!("application {} renamed to {}", renamed.id, renamed.name);
            Ok(())
        }
        Command::Apps(AppsCommand::Delete { app_id, yes }) => {
            if !yes {
                anyhow::bail!(
                    "deleting application {app_id} deletes all its users, channels and messages for good: add --yes to confirm"
                );
            }
            let store = open_store_for_command(&config, ids)?;
            provision::delete_application(&store, ApplicationId(app_id))
                .with_context(|| format!("cannot delete application {app_id}"))?;
            println!("application {app_id} and everything of it deleted");
            Ok(())
        }
        Command::Clients(ClientsCommand::Rotate { app_id, json }) => {
            let store = open_store_for_command(&config, ids)?;
            let rotated =
                provision::rotate_client_secret(&store, &store, &SecretHasher::owasp()?, ApplicationId(app_id))
                    .with_context(|| format!("cannot rotate the client of application {app_id}"))?;
            print_credentials(&rotated, json);
            Ok(())
        }
        Command::Outbox(OutboxCommand::List { json }) => {
            let store = open_store_for_command(&config, ids.clone())?;
            let service = roost_domain::Service::new(Ports::from_store(Arc::new(store)), ids, config.messages);
            accounts::print_outbox(&service.outbox()?, json);
            Ok(())
        }
        Command::Users(UsersCommand::Unlock { app_id, username }) => {
            let store = open_store_for_command(&config, ids.clone())?;
            let service = roost_domain::Service::new(Ports::from_store(Arc::new(store)), ids, config.messages);
            service
                .unlock_account(ApplicationId(app_id), &username)
                .with_context(|| format!("cannot unlock {username} of application {app_id}"))?;
            println!("{username} of application {app_id} may log in again");
            Ok(())
        }
        Command::Files(FilesCommand::Sweep { json }) => {
            let store = open_store_for_command(&config, ids.clone())?;
            files::sweep_command(&config, store, ids, json)
        }
        Command::Backup { path, json } => {
            let made = roost_persistence::backup::backup_sqlite(&config.database, &path)?;
            if json {
                println!("{}", serde_json::json!({"path": made.path.display().to_string(), "bytes": made.bytes}));
            } else {
                println!("backed up {} to {} ({} bytes)", config.database.describe(), made.path.display(), made.bytes);
            }
            Ok(())
        }
        Command::Export { app_id, dir, json } => {
            let store = open_store_for_command(&config, ids.clone())?;
            let service = roost_domain::Service::new(Ports::from_store(Arc::new(store)), ids, config.messages);
            export::export_command(&service, ApplicationId(app_id), &dir, json)
        }
        // Answered above, before the configuration is read.
        Command::Openapi => Ok(()),
    }
}

/// Logs go to stderr; credentials printed by commands go to stdout, so the two never mix.
/// `ROOST_LOG_FORMAT=json` writes one JSON object per line; a request's lines carry its
/// response token in `span.response_token` (the request span, see roost_http's middleware).
fn init_logging() -> anyhow::Result<()> {
    let filter = match std::env::var("ROOST_LOG") {
        Err(_) => tracing_subscriber::EnvFilter::new("info"),
        Ok(value) => log_filter(&value)?,
    };
    let format = std::env::var("ROOST_LOG_FORMAT").unwrap_or_default();
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format.to_ascii_lowercase().as_str() {
        "json" => logs.json().with_current_span(true).with_span_list(false).init(),
        "" | "text" => logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init(),
        other => anyhow::bail!("invalid ROOST_LOG_FORMAT '{other}': use text (the default) or json"),
    }
    Ok(())
}

/// `ROOST_LOG`, refused when it would not log what was meant: a directive that does not parse,
/// or a bare word that is not a level (`verbose` reads as "everything of a target named
/// verbose", which silently turns Roost's own logs off).
fn log_filter(value: &str) -> anyhow::Result<tracing_subscriber::EnvFilter> {
    const LEVELS: &[&str] = &["off", "error", "warn", "info", "debug", "trace"];
    let invalid = |why: String| {
        anyhow::anyhow!(
            "invalid ROOST_LOG '{value}': {why}; use a level ({}) or target=level pairs, e.g. info,roost::request=warn",
            LEVELS.join(", ")
        )
    };
    for directive in value.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        if !directive.contains('=') && !LEVELS.contains(&directive.to_ascii_lowercase().as_str()) {
            return Err(invalid(format!("'{directive}' is not a level")));
        }
    }
    tracing_subscriber::EnvFilter::builder().parse(value).map_err(|e| invalid(e.to_string()))
}

fn open_store(config: &Config, ids: Arc<IdGenerator>) -> anyhow::Result<DieselStore> {
    open_store_with(config, &config.pool, ids)
}

/// The store for a one-shot command: one connection, opened when needed and never in the
/// background, so nothing is connecting when the process exits. A command never creates a
/// database: a SQLite file that is not there is most likely the wrong path.
fn open_store_for_command(config: &Config, ids: Arc<IdGenerator>) -> anyhow::Result<DieselStore> {
    if !config.database.exists() {
        anyhow::bail!(
            "there is no database at {}: start the server (`roost`) or run `roost migrate` to create it, \
             or point ROOST_DATABASE_URL at the existing one",
            config.database.describe()
        );
    }
    let pool = roost_persistence::PoolSettings { max_size: 1, keep_idle: 0, ..config.pool.clone() };
    open_store_with(config, &pool, ids)
}

fn open_store_with(
    config: &Config,
    pool: &roost_persistence::PoolSettings,
    ids: Arc<IdGenerator>,
) -> anyhow::Result<DieselStore> {
    // A PostgreSQL server that is not up yet (it starts beside Roost under compose or systemd)
    // is waited for; anything else fails at once.
    let deadline = Instant::now() + config.database_wait;
    let mut attempt = 1u32;
    loop {
        match DieselStore::open(&config.database, pool, ids.clone()) {
            Ok(store) => return Ok(store),
            Err(error) if is_unreachable(&config.database, &error) && Instant::now() < deadline => {
                let left = deadline.saturating_duration_since(Instant::now()).as_secs();
                tracing::warn!(
                    attempt,
                    database = %config.database.describe(),
                    %error,
                    "the database is not reachable yet; trying again for {left} s more (ROOST_DATABASE_WAIT_SECONDS)"
                );
                std::thread::sleep(Duration::from_secs(1).min(deadline.saturating_duration_since(Instant::now())));
                attempt += 1;
            }
            Err(error) => {
                return Err(anyhow::Error::new(error))
                    .with_context(|| format!("cannot open the database {}", config.database.describe()))
            }
        }
    }
}

/// A PostgreSQL server that could not be reached (as opposed to a refused login, a failed
/// migration or a SQLite file that cannot be opened, which waiting does not fix).
fn is_unreachable(database: &roost_persistence::DatabaseUrl, error: &roost_persistence::store::OpenError) -> bool {
    use roost_persistence::migrate::MigrationError;
    use roost_persistence::store::OpenError;
    if database.kind() != roost_persistence::DatabaseKind::Postgres {
        return false;
    }
    let reason = match error {
        OpenError::Migration(MigrationError::Connect { reason, .. }) => reason.as_str(),
        _ => return false,
    };
    // libpq's words for a server that is down, starting or not listening yet.
    [
        "Connection refused",
        "could not connect",
        "the database system is starting up",
        "timeout expired",
        "could not translate host name",
    ]
    .iter()
    .any(|sign| reason.contains(sign))
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
async fn serve(config: Config, ids: Arc<IdGenerator>) -> anyhow::Result<()> {
    let store = Arc::new(open_store(&config, ids.clone())?);
    let hasher = Arc::new(SecretHasher::owasp()?);
    let settings = HttpSettings {
        public_url: config.public_url.clone(),
        tokens: roost_auth::TokenSettings { lifetime: config.token_lifetime, cache_for: config.token_cache },
        token_rate_per_second: config.token_rate_per_second,
        token_rate_burst: config.token_rate_burst,
        messages: config.messages,
        response_cache_bytes: config.response_cache_bytes,
        // One storage thread per database connection (see roost_http::workers).
        storage_threads: config.pool.max_size as usize,
        cors_allowed_origins: config.cors_allowed_origins.clone(),
        metrics: match (config.metrics, config.metrics_bind) {
            (false, _) => MetricsExposure::Off,
            (true, None) => MetricsExposure::WithApi,
            (true, Some(_)) => MetricsExposure::Separate,
        },
        require_preconditions: config.require_preconditions,
        rate_limits: config.rate_limits,
        files: Some(files::open(&config).await?),
        picture_max_bytes: config.picture_max_bytes,
        files_max_bytes: config.files_max_bytes,
        imports_max_bytes: config.imports_max_bytes,
        accounts: config.accounts,
        login_attempts_per_minute: config.login_attempts_per_minute,
        login_attempts_per_source_per_minute: config.login_attempts_per_source_per_minute,
        realtime: config.realtime.clone(),
        webhooks: config.webhooks.clone(),
        ..HttpSettings::default()
    };
    let state = web::Data::new(AppState::new(Ports::from_store(store.clone()), ids.clone(), hasher.clone(), settings)?);
    let app_state = state.clone();
    // Signals are Roost's own (below): actix would force-stop on SIGINT, failing requests in flight.
    let mut server = HttpServer::new(move || roost_http::app(app_state.clone()))
        .on_connect(roost_http::connection::on_connect)
        .shutdown_timeout(10)
        .disable_signals();
    if let Some(workers) = config.workers {
        server = server.workers(workers);
    }
    // Bound before the first-start bootstrap: a port in use must not leave an application
    // behind whose credentials were printed by a server that never ran.
    let server = server.bind(config.bind).with_context(|| format!("cannot listen on {}", config.bind))?;
    let addrs = server.addrs();
    // Metrics on an address of their own (ROOST_METRICS_BIND), e.g. one only the monitoring
    // network reaches; a single worker is plenty for a scrape every few seconds.
    let metrics_server = match config.metrics_bind.filter(|_| config.metrics) {
        None => None,
        Some(bind) => {
            let metrics_state = state.clone();
            let server = HttpServer::new(move || roost_http::metrics_app(metrics_state.clone()))
                .workers(1)
                .disable_signals()
                .bind(bind)
                .with_context(|| format!("cannot listen on {bind} for metrics"))?;
            Some(server)
        }
    };
    if config.bootstrap && store.first_organization()?.is_none() {
        let created = provision::create_application(store.as_ref(), &ids, &hasher, "Default application", now())?;
        println!("Roost created its first application on this empty database.");
        print_credentials(&created, false);
        if let Some(addr) = addrs.first() {
            println!(
                "Get a token: curl -u '{}:<client_secret>' -d grant_type=client_credentials http://{addr}/oauth/token",
                created.client_id
            );
        }
    }
    spawn_housekeeping(state.clone());
    if let Some(url) = config.broker.clone() {
        broker::start(&state.realtime, url);
    }
    actix_web::rt::spawn(roost_http::webhooks::run(state.clone()));
    actix_web::rt::spawn(roost_http::jobs::run(state.clone()));
    if let Some((url, from)) = &config.mail {
        let mailer = roost_mail::Mailer::open(url, from)?;
        actix_web::rt::spawn(roost_mail::deliver(state.service.clone(), mailer, state.mail_wake.clone()));
    }
    if let Some(files) = state.settings.files.clone() {
        actix_web::rt::spawn(files::sweep_at_start(state.service.clone(), files));
    }
    let server = server.run();
    let metrics_server = metrics_server.map(|metrics| {
        for addr in metrics.addrs() {
            tracing::info!(%addr, "metrics on http://{addr}/metrics");
        }
        metrics.run()
    });
    let mut handles = vec![server.handle()];
    handles.extend(metrics_server.as_ref().map(actix_web::dev::Server::handle));
    let stopping = stop_on_signals(handles).context("cannot listen for SIGINT and SIGTERM")?;
    for addr in addrs {
        tracing::info!(%addr, database = %config.database.describe(), "listening on http://{addr}");
    }
    if let Some(metrics) = metrics_server {
        actix_web::rt::spawn(metrics);
    }
    server.await?;
    stopping.iter().for_each(actix_web::rt::task::JoinHandle::abort);
    tracing::info!("stopped");
    Ok(())
}

/// SIGINT (Ctrl-C) and SIGTERM both stop the server gracefully: it stops accepting, lets the
/// requests in flight finish (up to the shutdown timeout), then exits. The handlers are in place
/// when this returns, before the server says it is listening.
fn stop_on_signals(
    servers: Vec<actix_web::dev::ServerHandle>,
) -> std::io::Result<Vec<actix_web::rt::task::JoinHandle<()>>> {
    use actix_web::rt::signal::unix::{signal, SignalKind};
    let mut listeners = Vec::new();
    for (kind, name) in [(SignalKind::interrupt(), "SIGINT"), (SignalKind::terminate(), "SIGTERM")] {
        let mut received = signal(kind)?;
        let servers = servers.clone();
        listeners.push(actix_web::rt::spawn(async move {
            if received.recv().await.is_some() {
                tracing::info!("{name} received: finishing the requests in flight, then stopping");
                for server in servers {
                    server.stop(true).await;
                }
            }
        }));
    }
    Ok(listeners)
}

/// Deletes what `job` deletes on a blocking thread, logging how many (`what`) or why it failed.
async fn purge(what: &'static str, job: impl FnOnce() -> Result<u64, String> + Send + 'static) {
    match web::block(job).await {
        Ok(Ok(0)) => {}
        Ok(Ok(n)) => tracing::info!(purged = n, "{what} deleted"),
        Ok(Err(error)) => tracing::warn!(%error, "purging {what} failed"),
        Err(error) => tracing::warn!(%error, "purging {what} failed"),
    }
}

/// Every ten minutes: forget idle rate-limit keys and delete expired tokens, keys and old mail.
fn spawn_housekeeping(state: web::Data<AppState>) {
    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(Duration::from_secs(600));
        loop {
            interval.tick().await;
            state.limiter.retain_recent();
            state.account_limiter.retain_recent();
            // Another node may have marked files removed and stopped before removing them.
            roost_http::file_cleanup::wake(&state);
            if let Some(limits) = &state.rate_limits {
                limits.retain_recent();
            }
            let service = state.service.clone();
            purge("expired idempotency keys", move || service.purge_idempotency_keys().map_err(|e| e.to_string()))
                .await;
            let service = state.service.clone();
            purge("sent or abandoned mail", move || service.purge_sent_mail().map_err(|e| e.to_string())).await;
            let auth = state.clone();
            purge("expired access tokens", move || auth.auth.purge_expired_tokens(now()).map_err(|e| e.to_string()))
                .await;
        }
    });
}

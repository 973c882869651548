//! The `streamdoc` command line: `serve` (the HTTP API and the playground) and
//! `server-info`. See `streamdoc --help`.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use streamdoc_host::http::{self, ApiOptions};
use streamdoc_host::{AnyEventStore, EventStore, MongoExecutor};
use tracing_subscriber::EnvFilter;

use cli::{Cli, Command, LogFormat, ServeArgs};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("streamdoc: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args)),
        Command::ServerInfo { mongodb_uri } => runtime.block_on(server_info(&mongodb_uri)),
    }
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn serve(args: ServeArgs) -> ExitCode {
    init_logging(args.log_format);
    let config = match args.store_config() {
        Ok(config) => config,
        Err(e) => return fail(&e),
    };
    let (store, described): (AnyEventStore, _) = match &args.mongodb_uri {
        None => match EventStore::in_memory(config) {
            Ok(store) => (store.into(), "the in-memory engine (embedded; nothing is kept)".to_owned()),
            Err(e) => return fail(&e.to_string()),
        },
        Some(uri) => match EventStore::connect(uri, config).await {
            Ok(store) => {
                let server = store.executor().server().to_string();
                (store.into(), format!("{server}, database {}", args.database))
            }
            Err(e) => return fail(&e.to_string()),
        },
    };
    let options = ApiOptions {
        token: args.token.clone(),
        max_body: args.max_body,
        web_dir: args.web_dir.clone(),
        cors_origins: args.cors_origins.clone(),
        command_endpoint: args.command_endpoint,
        max_subscriptions: args.max_subscriptions as usize,
        subscription_heartbeat: std::time::Duration::from_secs(args.subscription_heartbeat),
    };
    let app = match http::try_router(store.clone(), &options) {
        Ok(app) => app,
        Err(e) => return fail(&e.to_string()),
    };
    let listener = match tokio::net::TcpListener::bind(args.bind).await {
        Ok(listener) => listener,
        Err(e) => return fail(&format!("cannot listen on {}: {e}", args.bind)),
    };
    let address = listener.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| args.bind.to_string());
    let what = if args.web_dir.is_some() { "the playground and the API" } else { "the API" };
    // Printed whatever the log level: it is what the person who started us waits for.
    println!("streamdoc: serving {what} on http://{address}/ (store: {described})");
    if args.command_endpoint {
        println!(
            "streamdoc: the command endpoint is on: POST /commands runs commands in databases named `{}*`",
            http::commands::SCRATCH_PREFIX
        );
    }
    tracing::info!(
        %address,
        store = store.executor().kind(),
        auth = args.token.is_some(),
        command_endpoint = args.command_endpoint,
        "listening"
    );
    let served = http::serve(listener, app, http::shutdown_signal()).await;
    store.close().await;
    match served {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("serving failed: {e}")),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("streamdoc: {message}");
    ExitCode::FAILURE
}

async fn server_info(uri: &str) -> ExitCode {
    match MongoExecutor::connect(uri).await {
        Ok(executor) => {
            println!("{}", executor.server());
            match executor.server().concurrency_warning() {
                Some(warning) => println!("warning: {warning}"),
                None => println!("optimistic concurrency: guaranteed (atomic conditional updates)"),
            }
            executor.close().await;
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e.to_string()),
    }
}

//! The command line of `streamdoc` (clap).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use streamdoc_core::layout::ArchiveStorage;
use streamdoc_core::{Layout, Storage, StoreConfig};
use streamdoc_host::http::subscribe;

/// streamdoc: an event store that keeps each event stream as one MongoDB document.
#[derive(Debug, Parser)]
#[command(name = "streamdoc", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
// Parsed once per run: the size of `serve`'s flags costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (and the playground's files) on the in-memory engine, or on
    /// MongoDB when a URI is given.
    Serve(ServeArgs),
    /// Connect to a MongoDB server and say what it is, and whether streamdoc's
    /// optimistic concurrency holds on it.
    ServerInfo {
        /// The server's connection string.
        #[arg(long, env = "MONGODB_URI", value_name = "URI")]
        mongodb_uri: String,
    },
}

/// `streamdoc serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0: any free port; the URL is printed).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub bind: SocketAddr,

    /// A MongoDB connection string. Without one, streams live in core's in-memory
    /// engine in this process (the embedded default: nothing to install, nothing kept).
    #[arg(long, env = "MONGODB_URI", value_name = "URI", hide_env_values = true)]
    pub mongodb_uri: Option<String>,

    /// The database holding the streams.
    #[arg(long, default_value = "streamdoc", value_name = "NAME")]
    pub database: String,

    /// The shape of the stream documents: `streamdoc` (events in `events`), or `emmett`
    /// (the layout of @event-driven-io/emmett-mongodb: events in `messages`, collections
    /// `emt:{type}`, single collection `emt:streams`).
    #[arg(long, value_enum, default_value_t = LayoutArg::Streamdoc)]
    pub layout: LayoutArg,

    /// Which collections hold the streams: `per-type` (one collection per stream type,
    /// prefixed as the layout says), `single` (every stream in the layout's single
    /// collection: `streams`, or `emt:streams`), or `single:NAME`.
    #[arg(long, default_value = "per-type", value_name = "STORAGE", value_parser = parse_storage)]
    pub storage: StorageArg,

    /// Require `Authorization: Bearer TOKEN` on the stream routes and the command
    /// endpoint (not on /health, /openapi.json, GET /commands or the playground's files).
    #[arg(long, env = "STREAMDOC_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// The largest request body accepted, in bytes, or with a unit: `1MiB`, `512KiB`.
    #[arg(long, default_value = "1MiB", value_name = "SIZE", value_parser = parse_size)]
    pub max_body: usize,

    /// Serve the files of this directory at `/` (the playground: `web/`).
    #[arg(long, value_name = "DIR")]
    pub web_dir: Option<PathBuf>,

    /// Allow cross-origin requests from this origin (repeatable; `*` for any). CORS is
    /// off without it.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    pub cors_origins: Vec<String>,

    /// Serve the command endpoint: `POST /commands` runs one of core's commands (in the
    /// wire form of the JavaScript package's executors) on this server's store, so that
    /// the playground can run its operations against the server step by step;
    /// `GET /commands/documents` and `DELETE /commands/databases/{database}` show and
    /// drop what they wrote. Only in databases whose name starts with `scratch`, never
    /// the store's own database; behind `--token` when set. Off by default (the routes
    /// answer 404; `GET /commands` says whether the endpoint is on).
    #[arg(long)]
    pub command_endpoint: bool,

    /// At most this many `GET /subscribe` streams open at once; past it the route
    /// answers 503 `too-many-subscriptions` with `Retry-After`.
    #[arg(long, default_value_t = subscribe::DEFAULT_MAX_SUBSCRIPTIONS as u32, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_subscriptions: u32,

    /// How often an open `GET /subscribe` stream sends a keep-alive comment, in seconds.
    #[arg(long, default_value_t = subscribe::DEFAULT_HEARTBEAT.as_secs(), value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub subscription_heartbeat: u64,

    /// The stream type of stream names without a colon (`7f3a` is then stream `7f3a`
    /// of this type); without it such names are refused with 400.
    #[arg(long, value_name = "TYPE")]
    pub default_stream_type: Option<String>,

    /// Where archived streams go (`POST /streams/{streamName}/archive` and `/close`): the
    /// live collection's name with this suffix, in the same database (default
    /// `_archive`: `order` is archived to `order_archive`).
    #[arg(long, value_name = "SUFFIX", conflicts_with = "archive_database")]
    pub archive_suffix: Option<String>,

    /// Archive streams to the live collection's name in this database instead.
    #[arg(long, value_name = "DB")]
    pub archive_database: Option<String>,

    /// Store every stream as segments of at most about this many bytes of events (a
    /// number, or with a unit: `4MiB`), so that a stream can outgrow MongoDB's 16 MiB
    /// document limit. Not with `--layout emmett`; segmented streams cannot be archived.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub segment_bytes: Option<usize>,

    /// The log format. The level follows `RUST_LOG` (default `info`).
    #[arg(long, value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Human,
    /// One JSON object per line.
    Json,
}

impl ServeArgs {
    /// The store configuration the flags describe: `--database`, `--layout`, `--storage`,
    /// `--default-stream-type`, `--archive-suffix` or `--archive-database`,
    /// `--segment-bytes`; checked by core ([`StoreConfig::validate`]), so that a value or
    /// a combination core refuses stops `serve` before it connects or listens.
    pub fn store_config(&self) -> Result<StoreConfig, String> {
        let mut config = StoreConfig::new(&self.database).with_layout(self.layout.layout());
        config.default_stream_type = self.default_stream_type.clone();
        if let StorageArg::Single(name) = &self.storage {
            config = config.with_storage(Storage::SingleCollection { name: name.clone() });
        }
        match (&self.archive_suffix, &self.archive_database) {
            (Some(suffix), _) => config = config.with_archive(ArchiveStorage::Suffix(suffix.clone())),
            (None, Some(db)) => config = config.with_archive(ArchiveStorage::Database(db.clone())),
            (None, None) => {}
        }
        if let Some(bytes) = self.segment_bytes {
            config = config.with_segments(bytes as u64);
        }
        config.validate().map_err(|e| match (&e, &config.archive) {
            // Core checks the archive's database too; name the flag that gave it.
            (streamdoc_core::ConfigError::InvalidDatabase { name, .. }, ArchiveStorage::Database(db)) if name == db => {
                format!("invalid --archive-database: {e}")
            }
            _ => format!("invalid store configuration: {e}"),
        })?;
        Ok(config)
    }
}

/// A `--layout` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayoutArg {
    /// streamdoc's own layout.
    Streamdoc,
    /// The layout of @event-driven-io/emmett-mongodb.
    Emmett,
}

impl LayoutArg {
    /// Core's layout.
    pub fn layout(self) -> Layout {
        match self {
            LayoutArg::Streamdoc => Layout::Streamdoc,
            LayoutArg::Emmett => Layout::Emmett,
        }
    }
}

/// A `--storage` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageArg {
    /// One collection per stream type.
    PerType,
    /// One collection, optionally named.
    Single(Option<String>),
}

fn parse_storage(text: &str) -> Result<StorageArg, String> {
    match text {
        "per-type" => Ok(StorageArg::PerType),
        "single" => Ok(StorageArg::Single(None)),
        // It was a `--storage` value once; say where it went.
        "emmett" => Err("`emmett` is a layout, not a storage: use `--layout emmett` (with `--storage per-type`, \
                         the default, or `single`)"
            .into()),
        other => match other.strip_prefix("single:") {
            Some(name) if !name.is_empty() => Ok(StorageArg::Single(Some(name.to_owned()))),
            _ => Err("expected per-type, single or single:NAME".into()),
        },
    }
}

fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: usize = digits.parse().map_err(|_| format!("{text:?} is not a size such as 1048576, 512KiB or 1MiB"))?;
    let factor = match unit.trim() {
        "" | "B" => 1,
        "KiB" | "K" | "k" => 1024,
        "MiB" | "M" => 1024 * 1024,
        other => return Err(format!("unknown unit {other:?}: use B, KiB or MiB")),
    };
    n.checked_mul(factor).filter(|n| *n > 0).ok_or_else(|| format!("{text:?} is not a positive size"))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sizes_and_storages_parse() {
        assert_eq!(parse_size("1MiB"), Ok(1024 * 1024));
        assert_eq!(parse_size("512KiB"), Ok(512 * 1024));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("0").is_err());
        assert!(parse_size("1GB").is_err());
        assert_eq!(parse_storage("single:events"), Ok(StorageArg::Single(Some("events".into()))));
        assert_eq!(parse_storage("single"), Ok(StorageArg::Single(None)));
        assert_eq!(parse_storage("per-type"), Ok(StorageArg::PerType));
        assert!(parse_storage("single:").is_err());
        assert!(parse_storage("sharded").is_err());
    }

    fn serve(args: &[&str]) -> Result<ServeArgs, clap::Error> {
        let cli = Cli::try_parse_from(["streamdoc", "serve"].iter().chain(args))?;
        let Command::Serve(args) = cli.command else { panic!("not serve") };
        Ok(args)
    }

    /// Where a configuration puts `order:1`, and in which layout.
    fn placement(config: &StoreConfig) -> (Layout, String, String) {
        let ns = config.namespace(&streamdoc_core::StreamName::parse("order:1").unwrap()).unwrap();
        (config.layout, ns.db, ns.collection)
    }

    fn placed(layout: Layout, db: &str, collection: &str) -> (Layout, String, String) {
        (layout, db.to_owned(), collection.to_owned())
    }

    #[test]
    fn serve_needs_no_flag() {
        let args = serve(&[]).unwrap();
        assert_eq!(args.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(args.max_body, 1024 * 1024);
        assert_eq!(args.storage, StorageArg::PerType);
        assert_eq!(args.layout, LayoutArg::Streamdoc);
        assert_eq!(placement(&args.store_config().unwrap()), placed(Layout::Streamdoc, "streamdoc", "order"));
        assert!(!args.command_endpoint);
        assert!(serve(&["--command-endpoint"]).unwrap().command_endpoint);
        assert_eq!((args.max_subscriptions, args.subscription_heartbeat), (64, 15));
        let limited = serve(&["--max-subscriptions", "2", "--subscription-heartbeat", "1"]).unwrap();
        assert_eq!((limited.max_subscriptions, limited.subscription_heartbeat), (2, 1));
        assert!(serve(&["--max-subscriptions", "0"]).is_err());
        assert!(serve(&["--subscription-heartbeat", "0"]).is_err());
    }

    #[test]
    fn a_default_stream_type_places_bare_stream_names() {
        let config = serve(&["--default-stream-type", "cart"]).unwrap().store_config().unwrap();
        let bare = config.stream_name("7f3a").unwrap();
        assert_eq!(config.namespace(&bare).unwrap().collection, "cart");
        assert!(serve(&[]).unwrap().store_config().unwrap().stream_name("7f3a").is_err());
    }

    #[test]
    fn layout_and_storage_are_separate_flags() {
        let args = serve(&["--layout", "emmett", "--storage", "single", "--database", "shop"]).unwrap();
        assert_eq!(args.layout, LayoutArg::Emmett);
        assert_eq!(placement(&args.store_config().unwrap()), placed(Layout::Emmett, "shop", "emt:streams"));
        let emmett = serve(&["--layout", "emmett"]).unwrap().store_config().unwrap();
        assert_eq!(placement(&emmett), placed(Layout::Emmett, "streamdoc", "emt:order"));
        let named = serve(&["--layout=streamdoc", "--storage=single:events"]).unwrap().store_config().unwrap();
        assert_eq!(placement(&named), placed(Layout::Streamdoc, "streamdoc", "events"));
        let unknown = serve(&["--layout", "mongoose"]).unwrap_err();
        assert_eq!(unknown.kind(), clap::error::ErrorKind::InvalidValue);
        assert!(unknown.to_string().contains("streamdoc, emmett"), "{unknown}");
    }

    /// Where a configuration archives `order:1`.
    fn archived_to(config: &StoreConfig) -> (String, String) {
        let ns = config.archive_namespace(&streamdoc_core::StreamName::parse("order:1").unwrap()).unwrap();
        (ns.db, ns.collection)
    }

    #[test]
    fn the_archive_is_a_suffix_or_a_database() {
        let default = serve(&[]).unwrap().store_config().unwrap();
        assert_eq!(archived_to(&default), ("streamdoc".into(), "order_archive".into()));
        assert_eq!(default.segment_bytes, None);
        let suffix = serve(&["--archive-suffix", "_cold"]).unwrap().store_config().unwrap();
        assert_eq!(archived_to(&suffix), ("streamdoc".into(), "order_cold".into()));
        let db = serve(&["--archive-database", "streamdoc_cold"]).unwrap().store_config().unwrap();
        assert_eq!(archived_to(&db), ("streamdoc_cold".into(), "order".into()));

        let both = serve(&["--archive-suffix", "_cold", "--archive-database", "cold"]).unwrap_err();
        assert_eq!(both.kind(), clap::error::ErrorKind::ArgumentConflict);
        // Core's validation refuses what it cannot use, with its reason.
        let empty = serve(&["--archive-suffix", ""]).unwrap().store_config().unwrap_err();
        assert!(empty.contains("archive suffix must be non-empty"), "{empty}");
        let dollar = serve(&["--archive-suffix", "$x"]).unwrap().store_config().unwrap_err();
        assert!(dollar.contains("invalid store configuration"), "{dollar}");
        let bad_db = serve(&["--archive-database", "a.b"]).unwrap().store_config().unwrap_err();
        assert!(bad_db.contains("--archive-database") && bad_db.contains("a.b"), "{bad_db}");
    }

    #[test]
    fn segments_are_sized_and_checked_by_core() {
        let segmented = serve(&["--segment-bytes", "4MiB"]).unwrap().store_config().unwrap();
        assert_eq!(segmented.segment_bytes, Some(4 * 1024 * 1024));
        assert_eq!(serve(&["--segment-bytes", "1000"]).unwrap().store_config().unwrap().segment_bytes, Some(1000));
        assert!(serve(&["--segment-bytes", "0"]).is_err());
        let huge = serve(&["--segment-bytes", "64MiB"]).unwrap().store_config().unwrap_err();
        assert!(huge.contains("segment size must be 1 to"), "{huge}");
        let emmett = serve(&["--segment-bytes", "1MiB", "--layout", "emmett"]).unwrap().store_config().unwrap_err();
        assert!(emmett.contains("Emmett layout"), "{emmett}");
    }

    #[test]
    fn storage_emmett_is_refused_and_points_to_the_layout() {
        let refused = serve(&["--storage", "emmett"]).unwrap_err();
        assert_eq!(refused.kind(), clap::error::ErrorKind::ValueValidation);
        let message = refused.to_string();
        assert!(message.contains("`emmett` is a layout, not a storage"), "{message}");
        assert!(message.contains("--layout emmett"), "{message}");
    }
}

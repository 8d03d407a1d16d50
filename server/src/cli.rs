//! The command line: `strata-server serve` and `strata-server token …`.

use crate::http::{self, App, Config};
use crate::store::{redact, Scope, Store, StoreConfig, TokenInfo};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use strata::registry::{check_name, Limits, NameKind};

#[derive(Parser)]
#[command(
    name = "strata-server",
    version,
    about = "The strata registry: content-addressed versions of SQL migration directories, tags, scoped tokens and deployment reports over HTTP (docs/protocol.md)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the registry API.
    Serve(ServeArgs),
    /// Create, list and revoke access tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

/// Where the data lives (the same for every subcommand).
#[derive(Args, Clone)]
struct StorageArgs {
    /// The data directory of the embedded storage (SQLite `registry.db` and
    /// `blobs/`).
    #[arg(long, env = "STRATA_DATA", default_value = "strata-data")]
    data: PathBuf,
    /// Metadata database instead of the embedded one: `postgres://…` or
    /// `sqlite://PATH`.
    #[arg(long, env = "STRATA_METADATA")]
    metadata: Option<String>,
    /// Blob storage instead of the embedded one: `s3://bucket/prefix`
    /// (endpoint and credentials from the AWS_* variables) or `file:///DIR`.
    #[arg(long, env = "STRATA_BLOBS")]
    blobs: Option<String>,
}

impl StorageArgs {
    fn config(&self) -> Result<StoreConfig, String> {
        let data = if self.data.is_absolute() {
            self.data.clone()
        } else {
            std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?.join(&self.data)
        };
        let mut c = StoreConfig::embedded(&data);
        if let Some(m) = &self.metadata {
            c.metadata = m.clone();
        }
        if let Some(b) = &self.blobs {
            c.blobs = b.clone();
        }
        Ok(c)
    }

    async fn open(&self) -> Result<Store, String> {
        let c = self.config()?;
        Store::open(&c).await.map_err(|e| {
            format!("cannot open the storage (metadata {}, blobs {}): {e}", redact(&c.metadata), redact(&c.blobs))
        })
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// The address to listen on (port 0: any free port; the address is
    /// printed on stdout once bound).
    #[arg(long, env = "STRATA_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Let requests without a token read (never push or report).
    #[arg(long, env = "STRATA_ANONYMOUS_READ")]
    anonymous_read: bool,
    /// An origin browsers may call from (`https://viewer.example`, or `*`);
    /// repeat for several.
    #[arg(long = "cors-origin", env = "STRATA_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// The largest blob (one migration file), bytes (`64MiB`, `512k`, …).
    #[arg(long, env = "STRATA_MAX_BLOB_SIZE", default_value = "64MiB", value_parser = parse_size)]
    max_blob_size: u64,
    /// The most files in one version.
    #[arg(long, env = "STRATA_MAX_FILES", default_value_t = Limits::default().max_files)]
    max_files: usize,
    /// The largest JSON request body (manifests, reports), bytes.
    #[arg(long, env = "STRATA_MAX_BODY", default_value = "32MiB", value_parser = parse_size)]
    max_body: u64,
    /// The most bytes the files of one version may total.
    #[arg(long, env = "STRATA_MAX_VERSION_SIZE", default_value = "256MiB", value_parser = parse_size)]
    max_version_size: u64,
    /// The hook's targets: a TOML file of `[targets.NAME] url = "…"`
    /// (`STRATA_TARGET_<NAME>=URL` variables add more).
    #[arg(long, env = "STRATA_TARGETS")]
    targets: Option<PathBuf>,
    /// A registry (base URL) the hook fetches directory versions from and
    /// records deployments to, instead of this server's own storage.
    #[arg(long, env = "STRATA_REGISTRY")]
    registry: Option<String>,
    /// A directory of static files (the web viewer) served outside the API,
    /// `index.html` for any other path.
    #[arg(long, env = "STRATA_WWW")]
    www: Option<PathBuf>,
    /// The token this server uses with `--registry` (scopes read, report).
    #[arg(long, env = "STRATA_REGISTRY_TOKEN", hide_env_values = true)]
    registry_token: Option<String>,
    /// Log lines on stderr as text or JSON (RUST_LOG filters them).
    #[arg(long, env = "STRATA_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token; prints its secret on stdout, once.
    Create(CreateArgs),
    /// List tokens (never their secrets).
    List(ListArgs),
    /// Revoke a token by id (`tok_…`).
    Revoke(RevokeArgs),
}

#[derive(Args)]
struct CreateArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Its scopes: read, push, report, deploy (comma-separated).
    #[arg(long = "scope", required = true, value_delimiter = ',', value_parser = parse_scope_arg)]
    scopes: Vec<Scope>,
    /// Limit it to this directory; repeat for several (default: all).
    #[arg(long = "dir")]
    dirs: Vec<String>,
    /// Limit it to this hook target; repeat for several (default: all).
    #[arg(long = "target")]
    targets: Vec<String>,
    /// A label shown in listings.
    #[arg(long, default_value = "")]
    name: String,
    /// Print the token as JSON (with its secret).
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ListArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct RevokeArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// The token's id (`tok_…`, see `token list`).
    id: String,
}

fn parse_scope_arg(s: &str) -> Result<Scope, String> {
    Scope::parse(s.trim()).map_err(|e| format!("{}; {}", e.message, e.hint))
}

/// Parses a byte count: a number with an optional unit (`k`/`KiB`, `M`/`MiB`,
/// `G`/`GiB`, powers of 1024; `KB`, `MB`, `GB`, powers of 1000).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 =
        num.parse().map_err(|_| format!("{s:?} is not a size: write bytes, or a number with KiB, MiB or GiB"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => return Err(format!("{s:?} has an unknown unit {unit:?}: use KiB, MiB or GiB")),
    };
    n.checked_mul(mult).ok_or_else(|| format!("{s:?} is too large"))
}

/// Runs the command line; the process's exit code.
pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(a) => serve(a).await,
        Command::Token(t) => {
            init_logs(LogFormat::Text, "warn");
            token(t).await
        }
    };
    crate::logs::flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strata-server: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logs(format: LogFormat, default: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::logs::Stderr::start())
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = match format {
        LogFormat::Text => b.try_init(),
        LogFormat::Json => b.json().try_init(),
    };
}

async fn serve(a: ServeArgs) -> Result<(), String> {
    init_logs(a.log_format, "info");
    for o in &a.cors_origins {
        let ok = o == "*"
            || (axum::http::HeaderValue::from_str(o).is_ok()
                && (o.starts_with("http://") || o.starts_with("https://"))
                && !o.ends_with('/'));
        if !ok {
            return Err(format!(
                "--cors-origin {o:?} is not an origin: write scheme://host[:port] without a path (or *)"
            ));
        }
    }
    if a.max_files == 0 || a.max_blob_size == 0 || a.max_body == 0 || a.max_version_size == 0 {
        return Err("the limits (--max-files, --max-blob-size, --max-body, --max-version-size) must be positive".into());
    }
    let targets = crate::hook::Targets::load(a.targets.as_deref(), std::env::vars()).map_err(|e| e.to_string())?;
    for t in targets.iter() {
        tracing::info!(target = t.name(), dialect = t.dialect().as_str(), url = %t.redacted_url(), "hook target");
    }
    let remote = match &a.registry {
        Some(url) => {
            let r = crate::remote::connect(url, a.registry_token.as_deref())
                .map_err(|e| format!("--registry {url:?}: {}; {}", e.message, e.hint))?;
            tracing::info!(registry = %crate::store::redact(url), "the hook fetches versions from a remote registry");
            Some(std::sync::Arc::new(r))
        }
        None if a.registry_token.is_some() => {
            return Err("--registry-token without --registry: give the registry's URL too".into())
        }
        None => None,
    };
    if let Some(w) = &a.www {
        if !w.join("index.html").is_file() {
            return Err(format!("--www {}: it has no index.html; pass the viewer's directory", w.display()));
        }
    }
    let config = Config {
        targets,
        remote,
        www: a.www.clone(),
        limits: Limits { max_blob_size: a.max_blob_size, max_files: a.max_files },
        max_body: a.max_body,
        max_version_size: a.max_version_size,
        anonymous_read: a.anonymous_read,
        cors_origins: a.cors_origins.clone(),
        ..Config::default()
    };
    let store = a.storage.open().await?;
    let listener =
        tokio::net::TcpListener::bind(&a.listen).await.map_err(|e| format!("cannot listen on {}: {e}", a.listen))?;
    let addr = listener.local_addr().map_err(|e| format!("cannot read the bound address: {e}"))?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{addr}");
        let _ = out.flush();
    }
    tracing::info!(%addr, anonymous_read = config.anonymous_read, "serving the registry");
    let app = App::new(store, config);
    http::serve(listener, app.clone(), shutdown_signal()).await.map_err(|e| format!("the server failed: {e}"))?;
    // A hook apply whose client went away still runs: let it finish and
    // record its report rather than stop it mid-statement.
    if !app.hook_runs.is_empty() {
        tracing::info!("waiting for the hook's applies in flight");
        while !app.hook_runs.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Completes on SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let term = async {
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = term => tracing::info!("SIGTERM: finishing the requests in flight"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: finishing the requests in flight"),
    }
}

#[derive(Serialize)]
struct TokenJson<'a> {
    id: &'a str,
    name: &'a str,
    scopes: Vec<&'static str>,
    dirs: &'a [String],
    targets: &'a [String],
    created: String,
    revoked: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
}

impl<'a> TokenJson<'a> {
    fn of(t: &'a TokenInfo, secret: Option<&'a str>) -> Self {
        TokenJson {
            id: &t.id,
            name: &t.name,
            scopes: t.scopes.iter().map(|s| s.as_str()).collect(),
            dirs: &t.dirs,
            targets: &t.targets,
            created: strata::report::rfc3339(t.created),
            revoked: t.revoked.map(strata::report::rfc3339),
            secret,
        }
    }
}

async fn token(cmd: TokenCommand) -> Result<(), String> {
    match cmd {
        TokenCommand::Create(a) => {
            for d in &a.dirs {
                check_name(NameKind::Directory, d).map_err(|e| format!("--dir: {}", e.message))?;
            }
            for t in &a.targets {
                check_name(NameKind::Target, t).map_err(|e| format!("--target: {}", e.message))?;
            }
            let mut scopes = a.scopes.clone();
            scopes.sort();
            scopes.dedup();
            let store = a.storage.open().await?;
            let (info, secret) = store
                .create_token(&a.name, &scopes, &a.dirs, &a.targets)
                .await
                .map_err(|e| format!("cannot create the token: {e}"))?;
            let mut out = std::io::stdout().lock();
            if a.json {
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&TokenJson::of(&info, Some(&secret))).unwrap_or_default()
                );
            } else {
                let _ = writeln!(out, "{secret}");
                let t = TokenJson::of(&info, None);
                eprintln!(
                    "created token {} ({}) with scopes {} on {} and {}; the secret above is shown only once",
                    info.id,
                    if info.name.is_empty() { "no name" } else { &info.name },
                    t.scopes.join(","),
                    if info.dirs.is_empty() { "every directory".to_string() } else { info.dirs.join(", ") },
                    if info.targets.is_empty() {
                        "every target".to_string()
                    } else {
                        format!("the targets {}", info.targets.join(", "))
                    },
                );
            }
            Ok(())
        }
        TokenCommand::List(a) => {
            let store = a.storage.open().await?;
            let tokens = store.tokens().await.map_err(|e| format!("cannot list the tokens: {e}"))?;
            let mut out = std::io::stdout().lock();
            if a.json {
                let all: Vec<_> = tokens.iter().map(|t| TokenJson::of(t, None)).collect();
                let _ = writeln!(out, "{}", serde_json::to_string_pretty(&all).unwrap_or_default());
            } else {
                let _ = writeln!(
                    out,
                    "{:<28} {:<16} {:<24} {:<24} {:<16} CREATED / REVOKED",
                    "ID", "NAME", "SCOPES", "DIRS", "TARGETS"
                );
                let all = |v: &[String]| if v.is_empty() { "*".to_string() } else { v.join(",") };
                for t in &tokens {
                    let j = TokenJson::of(t, None);
                    let _ = writeln!(
                        out,
                        "{:<28} {:<16} {:<24} {:<24} {:<16} {}{}",
                        t.id,
                        if t.name.is_empty() { "-" } else { &t.name },
                        j.scopes.join(","),
                        all(&t.dirs),
                        all(&t.targets),
                        j.created,
                        j.revoked.map(|r| format!(" revoked {r}")).unwrap_or_default()
                    );
                }
            }
            Ok(())
        }
        TokenCommand::Revoke(a) => {
            let store = a.storage.open().await?;
            if store.revoke_token(&a.id).await.map_err(|e| format!("cannot revoke the token: {e}"))? {
                println!(
                    "revoked {} (servers may accept it for up to {} s more)",
                    a.id,
                    http::auth::TOKEN_CACHE_TTL.as_secs()
                );
                Ok(())
            } else {
                Err(format!("there is no token {:?}; `strata-server token list` shows them", a.id))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5 parsecs").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }
}

//! The command line and the one typed [`Config`] every subcommand is built from. Flags have
//! `ICHIBA_*` environment twins; defaults run with nothing set. Validation happens here, at
//! start-up, so a bad setting fails with one clear line instead of at the first request.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

/// ichiba — a skill marketplace engine (ココナラ style): listings, talk rooms, escrow, payouts.
#[derive(Debug, Parser)]
#[command(name = "ichiba", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the marketplace (HTTP API) until SIGINT/SIGTERM.
    Serve(ServeArgs),
    /// Apply the database migrations and exit.
    Migrate(StorageArgs),
    /// Fill the database with a living demo market (safe to run twice).
    Demo(StorageArgs),
    /// The contact detector on its own (no database).
    Guard {
        /// The task.
        #[command(subcommand)]
        command: GuardCommand,
    },
    /// Operator tasks.
    Admin {
        /// Storage to act on.
        #[command(flatten)]
        storage: StorageArgs,
        /// The task.
        #[command(subcommand)]
        command: AdminCommand,
    },
}

/// Contact-guard subcommands.
#[derive(Debug, Subcommand)]
pub enum GuardCommand {
    /// Read JSON Lines `{"id", "text"}` on stdin; write one verdict line per input.
    Scan,
    /// Evaluate labelled JSON Lines (`{"id", "text", "label": "block"|"allow", "category"}`):
    /// precision, recall and F1 overall and per category, and the misclassified ids.
    Eval {
        /// The labelled file.
        file: PathBuf,
    },
}

/// Operator subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Give the user with this e-mail address the operator role.
    GrantOperator {
        /// The user's e-mail address.
        email: String,
    },
    /// Recompute every ledger balance; exit status 1 on any imbalance.
    Verify,
    /// Lift the contact-guard restriction and suspension of the user with this e-mail.
    Lift {
        /// The user's e-mail address.
        email: String,
    },
}

/// Where the data lives; shared by every subcommand that touches the database.
#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Directory for the SQLite file and uploaded files.
    #[arg(long, env = "ICHIBA_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://PATH` or `postgres://…`. Default: a SQLite file in the data directory.
    #[arg(long, env = "ICHIBA_DATABASE_URL")]
    pub database_url: Option<String>,
}

/// Flags of `ichiba serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Storage.
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Address to listen on.
    #[arg(long, env = "ICHIBA_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Fill the database with demo data on start (skipped when it is already there).
    #[arg(long, env = "ICHIBA_DEMO")]
    pub demo: bool,
    /// Use a manual clock that `POST /api/v1/dev/clock` advances (development and tests only).
    #[arg(long, env = "ICHIBA_DEV_CLOCK")]
    pub dev_clock: bool,
    /// Trust the first address of `X-Forwarded-For` as the client address (behind a reverse proxy).
    #[arg(long, env = "ICHIBA_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
}

/// The database backend a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// A validated database location.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// The URL handed to the driver.
    pub url: String,
    /// Which backend it is.
    pub backend: Backend,
}

/// Why a configuration was refused at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The database URL has a scheme ichiba does not speak.
    #[error(
        "unsupported database URL scheme in {0:?}: use sqlite://PATH or postgres://USER@HOST/DB"
    )]
    UnknownScheme(String),
    /// The data directory cannot be created or written.
    #[error("data directory {path} is not writable")]
    DataDirNotWritable {
        /// The directory.
        path: PathBuf,
        /// The I/O cause.
        source: std::io::Error,
    },
}

/// Everything the service needs at run time, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// Directory for the SQLite file and uploads (exists and is writable).
    pub data_dir: PathBuf,
    /// The database.
    pub database: DatabaseConfig,
    /// Whether the manual clock is on.
    pub dev_clock: bool,
    /// Whether `X-Forwarded-For` is trusted.
    pub trust_forwarded_for: bool,
}

impl Config {
    /// Builds and validates the configuration from storage flags.
    ///
    /// Errors: [`ConfigError`] for an unknown URL scheme or an unwritable data directory.
    pub fn from_storage(args: &StorageArgs) -> Result<Self, ConfigError> {
        ensure_writable_dir(&args.data_dir)?;
        let database = database_config(args.database_url.as_deref(), &args.data_dir)?;
        Ok(Config {
            data_dir: args.data_dir.clone(),
            database,
            dev_clock: false,
            trust_forwarded_for: false,
        })
    }

    /// Builds and validates the configuration of `serve`.
    pub fn from_serve(args: &ServeArgs) -> Result<Self, ConfigError> {
        let mut config = Self::from_storage(&args.storage)?;
        config.dev_clock = args.dev_clock;
        config.trust_forwarded_for = args.trust_forwarded_for;
        Ok(config)
    }
}

/// Chooses the backend from the URL; no URL means `DATA_DIR/ichiba.sqlite`.
pub fn database_config(url: Option<&str>, data_dir: &Path) -> Result<DatabaseConfig, ConfigError> {
    match url {
        None => Ok(DatabaseConfig {
            url: format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("ichiba.sqlite").display()
            ),
            backend: Backend::Sqlite,
        }),
        Some(u) if u.starts_with("sqlite:") => {
            let url = if u.contains("mode=") {
                u.to_string()
            } else if u.contains('?') {
                format!("{u}&mode=rwc")
            } else {
                format!("{u}?mode=rwc")
            };
            Ok(DatabaseConfig {
                url,
                backend: Backend::Sqlite,
            })
        }
        Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
            Ok(DatabaseConfig {
                url: u.to_string(),
                backend: Backend::Postgres,
            })
        }
        Some(u) => Err(ConfigError::UnknownScheme(redact(u))),
    }
}

/// Hides a password in a URL before it is printed.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
        _ => url.to_string(),
    }
}

fn ensure_writable_dir(path: &Path) -> Result<(), ConfigError> {
    let fail = |source| ConfigError::DataDirNotWritable {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(path).map_err(fail)?;
    let probe = path.join(".ichiba-write-check");
    std::fs::write(&probe, b"ok").map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_url_means_a_sqlite_file_in_the_data_directory() {
        let c = database_config(None, Path::new("/tmp/x")).unwrap();
        assert_eq!(c.backend, Backend::Sqlite);
        assert_eq!(c.url, "sqlite:///tmp/x/ichiba.sqlite?mode=rwc");
    }

    #[test]
    fn postgres_urls_select_postgres() {
        let c = database_config(Some("postgres://u@h/db"), Path::new(".")).unwrap();
        assert_eq!(c.backend, Backend::Postgres);
    }

    #[test]
    fn an_unknown_scheme_is_refused_without_leaking_the_password() {
        let e = database_config(Some("mysql://root:hunter2@h/db"), Path::new(".")).unwrap_err();
        let line = e.to_string();
        assert!(line.contains("unsupported database URL scheme"), "{line}");
        assert!(!line.contains("hunter2"), "{line}");
    }
}

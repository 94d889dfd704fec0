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
    /// Payout batches: export the Zengin file, record what the bank paid.
    Payouts {
        /// Storage to act on.
        #[command(flatten)]
        storage: StorageArgs,
        /// The paying side of the Zengin file.
        #[command(flatten)]
        zengin: ZenginArgs,
        /// The task.
        #[command(subcommand)]
        command: PayoutsCommand,
    },
}

/// Payout subcommands.
#[derive(Debug, Subcommand)]
pub enum PayoutsCommand {
    /// Write every pending payout due on or before the pay date into a Zengin 総合振込 file and
    /// mark them exported (a second export does not include them again).
    Export {
        /// Pay date (振込指定日), a bank business day: YYYY-MM-DD.
        #[arg(long)]
        pay_date: String,
        /// Where to write the file (Shift_JIS, CRLF).
        #[arg(long)]
        out: PathBuf,
    },
    /// Record the bank's result: paid payouts leave the platform; failed ones return to earnings
    /// and block the seller's bank account until it is corrected.
    Settle {
        /// Ids of payouts the bank paid.
        #[arg(long, num_args = 1..)]
        paid: Vec<String>,
        /// Ids of payouts the bank could not pay.
        #[arg(long, num_args = 1..)]
        failed: Vec<String>,
        /// Why the failed ones failed (shown to the seller).
        #[arg(long)]
        reason: Option<String>,
    },
}

/// The paying side (委託者) of Zengin transfer files, from the operator's contract with its bank.
/// The defaults are demo values.
#[derive(Debug, Clone, Args)]
pub struct ZenginArgs {
    /// 委託者コード: the 10 digits the paying bank assigned.
    #[arg(
        long,
        global = true,
        env = "ICHIBA_ZENGIN_REQUESTER_CODE",
        default_value = "0000000001"
    )]
    pub zengin_requester_code: String,
    /// 委託者名 in katakana (converted to half-width, at most 40 characters).
    #[arg(
        long,
        global = true,
        env = "ICHIBA_ZENGIN_REQUESTER_NAME",
        default_value = "イチバ デモ"
    )]
    pub zengin_requester_name: String,
    /// The paying bank's code (4 digits, must exist in the bundled Zengin data).
    #[arg(
        long,
        global = true,
        env = "ICHIBA_ZENGIN_BANK_CODE",
        default_value = "0001"
    )]
    pub zengin_bank_code: String,
    /// The paying branch's code (3 digits).
    #[arg(
        long,
        global = true,
        env = "ICHIBA_ZENGIN_BRANCH_CODE",
        default_value = "001"
    )]
    pub zengin_branch_code: String,
    /// The paying account's type: 1 普通, 2 当座, 4 貯蓄.
    #[arg(
        long,
        global = true,
        env = "ICHIBA_ZENGIN_ACCOUNT_TYPE",
        default_value_t = 1
    )]
    pub zengin_account_type: i64,
    /// The paying account's number (up to 7 digits).
    #[arg(
        long,
        global = true,
        env = "ICHIBA_ZENGIN_ACCOUNT_NUMBER",
        default_value = "1234567"
    )]
    pub zengin_account_number: String,
}

/// The Zengin requester settings as configured (checked by [`ZenginSettings::requester`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZenginSettings {
    /// 委託者コード.
    pub requester_code: String,
    /// 委託者名.
    pub requester_name: String,
    /// Paying bank.
    pub bank_code: String,
    /// Paying branch.
    pub branch_code: String,
    /// Paying account type.
    pub account_type: i64,
    /// Paying account number.
    pub account_number: String,
}

impl Default for ZenginSettings {
    fn default() -> Self {
        ZenginSettings {
            requester_code: "0000000001".into(),
            requester_name: "イチバ デモ".into(),
            bank_code: "0001".into(),
            branch_code: "001".into(),
            account_type: 1,
            account_number: "1234567".into(),
        }
    }
}

impl From<&ZenginArgs> for ZenginSettings {
    fn from(a: &ZenginArgs) -> Self {
        ZenginSettings {
            requester_code: a.zengin_requester_code.clone(),
            requester_name: a.zengin_requester_name.clone(),
            bank_code: a.zengin_bank_code.clone(),
            branch_code: a.zengin_branch_code.clone(),
            account_type: a.zengin_account_type,
            account_number: a.zengin_account_number.clone(),
        }
    }
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
    #[arg(long, global = true, env = "ICHIBA_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://PATH` or `postgres://…`. Default: a SQLite file in the data directory.
    #[arg(long, global = true, env = "ICHIBA_DATABASE_URL")]
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
    /// Always serve cookies with the `Secure` attribute (set this when users reach ichiba over
    /// HTTPS, for example behind a TLS-terminating proxy).
    #[arg(long, env = "ICHIBA_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// The paying side of Zengin payout files (operator API).
    #[command(flatten)]
    pub zengin: ZenginArgs,
    /// Open connections at most (each live event stream holds one); lowered to what the
    /// open-file limit allows.
    #[arg(long, env = "ICHIBA_MAX_CONNECTIONS", default_value_t = 16_384)]
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers (and an idle connection stays open).
    #[arg(long, env = "ICHIBA_HEADER_TIMEOUT_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout_secs: u64,
    /// Seconds a request body may go without sending anything.
    #[arg(long, env = "ICHIBA_BODY_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_timeout_secs: u64,
}

impl ServeArgs {
    /// The connection limits these flags ask for.
    pub fn limits(&self) -> crate::server::Limits {
        crate::server::Limits {
            max_connections: self.max_connections.max(1),
            header_read_timeout: std::time::Duration::from_secs(self.header_timeout_secs),
            body_read_timeout: std::time::Duration::from_secs(self.body_timeout_secs),
        }
    }
}

/// The database backend a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// A validated database location. Its `Debug` output hides the password.
#[derive(Clone)]
pub struct DatabaseConfig {
    /// The URL handed to the driver.
    pub url: String,
    /// Which backend it is.
    pub backend: Backend,
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact(&self.url))
            .field("backend", &self.backend)
            .finish()
    }
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
    /// A Zengin requester setting is invalid.
    #[error("{setting}: {why}")]
    Zengin {
        /// The environment variable.
        setting: &'static str,
        /// What is wrong.
        why: String,
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
    /// Whether the web app's cookies carry `Secure`.
    pub secure_cookies: bool,
    /// The paying side of Zengin payout files (validated at start-up by
    /// `payouts::zengin::Requester::from_settings`).
    pub zengin: ZenginSettings,
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
            secure_cookies: false,
            zengin: ZenginSettings::default(),
        })
    }

    /// Builds and validates the configuration of `serve`.
    pub fn from_serve(args: &ServeArgs) -> Result<Self, ConfigError> {
        let mut config = Self::from_storage(&args.storage)?;
        config.dev_clock = args.dev_clock;
        config.trust_forwarded_for = args.trust_forwarded_for;
        config.secure_cookies = args.secure_cookies;
        config.zengin = ZenginSettings::from(&args.zengin);
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
/// The URL with its password (in the user info or a `password=` parameter) replaced by `***`.
fn redact(url: &str) -> String {
    let hidden = match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let user = url[s + 3..at].split(':').next().unwrap_or_default();
            format!("{}://{user}:***{}", &url[..s], &url[at..])
        }
        _ => url.to_string(),
    };
    match hidden.split_once('?') {
        Some((base, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => p.to_string(),
                })
                .collect();
            format!("{base}?{}", params.join("&"))
        }
        None => hidden,
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
    fn the_debug_output_of_a_database_config_never_shows_the_password() {
        for url in [
            "postgres://ichiba:hunter2@db.internal/ichiba",
            "postgres://db.internal/ichiba?user=ichiba&password=hunter2",
        ] {
            let c = database_config(Some(url), Path::new(".")).unwrap();
            let shown = format!("{c:?}");
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("db.internal"), "{shown}");
            let whole = format!(
                "{:?}",
                Config {
                    data_dir: ".".into(),
                    database: c,
                    dev_clock: false,
                    trust_forwarded_for: false,
                    secure_cookies: false,
                    zengin: ZenginSettings::default(),
                }
            );
            assert!(!whole.contains("hunter2"), "{whole}");
        }
    }

    #[test]
    fn storage_flags_are_accepted_after_the_task_as_well_as_before() {
        use clap::Parser;
        for line in [
            "ichiba admin verify --data-dir /srv/x --database-url postgres://h/db",
            "ichiba admin --data-dir /srv/x --database-url postgres://h/db verify",
            "ichiba payouts settle --paid p1 --data-dir /srv/x --database-url postgres://h/db",
        ] {
            let cli =
                Cli::try_parse_from(line.split(' ')).unwrap_or_else(|e| panic!("{line}: {e}"));
            let storage = match cli.command {
                Command::Admin { storage, .. } | Command::Payouts { storage, .. } => storage,
                _ => panic!("{line}: parsed as another command"),
            };
            assert_eq!(storage.data_dir, Path::new("/srv/x"), "{line}");
            assert_eq!(
                storage.database_url.as_deref(),
                Some("postgres://h/db"),
                "{line}"
            );
        }
        let cli = Cli::try_parse_from(
            "ichiba payouts export --pay-date 2026-12-07 --out f --zengin-bank-code 0005"
                .split(' '),
        )
        .expect("zengin flags after the task");
        let Command::Payouts { zengin, .. } = cli.command else {
            panic!("not payouts")
        };
        assert_eq!(zengin.zengin_bank_code, "0005");
    }

    #[test]
    fn an_unknown_scheme_is_refused_without_leaking_the_password() {
        let e = database_config(Some("mysql://root:hunter2@h/db"), Path::new(".")).unwrap_err();
        let line = e.to_string();
        assert!(line.contains("unsupported database URL scheme"), "{line}");
        assert!(!line.contains("hunter2"), "{line}");
    }
}

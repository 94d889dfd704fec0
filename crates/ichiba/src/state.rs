//! The shared state every handler and service receives: the database, the clock, the
//! configuration, the event hub, the payment gateway and the contact detector. It sits low in the
//! module graph (it knows no feature), so features take it without importing the router.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::clock::{AppClock, Clock, ManualClock, SystemClock};
use crate::config::Config;
use crate::db::{Db, DbError};
use crate::events::Hub;
use crate::payments::{PaymentGateway, Sandbox};

/// Everything a handler needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The clock.
    pub clock: AppClock,
    /// The validated configuration.
    pub config: Arc<Config>,
    /// Realtime events.
    pub hub: Hub,
    /// The payment gateway.
    pub gateway: Arc<dyn PaymentGateway>,
    /// The contact detector, built once.
    pub guard: Arc<::guard::Guard>,
    /// Sellers whose reputation (listing scores and ratings) awaits a refresh: finished deals and
    /// published reviews mark them; `reputation` refreshes them off the request path.
    pub reputation_pending: Arc<crate::pending::Pending>,
}

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause (address in use, permission denied, …).
        source: std::io::Error,
    },
}

impl AppState {
    /// Opens and migrates the database and picks the clock the configuration asks for.
    pub async fn open(config: Config) -> Result<AppState, StartError> {
        let db = Db::connect(&config.database, 16).await?;
        db.migrate().await?;
        let clock = if config.dev_clock {
            AppClock::Manual(Arc::new(ManualClock::starting_at(SystemClock.now_ms())))
        } else {
            AppClock::System(SystemClock)
        };
        let mut hub = Hub::new();
        if db.backend() == crate::config::Backend::Postgres {
            hub.relay_through_postgres(&config.database.url)
                .await
                .map_err(|source| DbError::Unreachable {
                    backend: db.backend(),
                    source,
                })?;
        }
        Ok(AppState {
            db,
            clock,
            config: Arc::new(config),
            hub,
            gateway: Arc::new(Sandbox),
            guard: Arc::new(::guard::Guard::new(::guard::Policy::default())),
            reputation_pending: Arc::default(),
        })
    }
}

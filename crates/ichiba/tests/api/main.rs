//! The integration suite: the real router on port 0 with a fresh database per test — a temporary
//! SQLite file by default, a freshly created PostgreSQL database when `ICHIBA_TEST_POSTGRES_URL`
//! is set. One binary, one module per feature.

mod helpers;

mod accounts;
mod console;
mod deal;
mod edge;
mod effects;
mod guard;
mod inbox;
mod input;
mod limits;
mod listings;
mod live;
mod payouts;
mod reviews;
mod rulebook;
mod schema;
mod search;
mod statements;
mod talk;
mod web;

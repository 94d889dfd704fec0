//! ichiba: an engine for skill marketplaces in the style of Coconala (ココナラ). Sellers list
//! services (listings), buyers purchase them, and each purchase runs in a talk room through
//! delivery, acceptance, reviews and payout. See `shared/DESIGN.md` for the rules and layout.

pub mod accounts;
pub mod app;
pub mod appeals;
pub mod attachments;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod cursor;
pub mod db;
pub mod demo;
pub mod edge;
pub mod error;
pub mod events;
pub mod extract;
pub mod guard;
pub mod idempotency;
pub mod jobs;
#[cfg(test)]
mod layout_tests;
pub mod ledger;
pub mod listings;
pub mod messages;
pub mod notifications;
pub mod openapi;
pub mod orders;
pub mod payments;
pub mod payouts;
pub mod pending;
pub mod reputation;
pub mod reviews;
pub mod server;
pub mod state;
pub mod system;
pub mod templates;
pub mod text;
pub mod web;

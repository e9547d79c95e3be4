//! The Tradeforge HTTP API: validates and accepts jobs, reports their state and artifacts.

pub mod auth;
pub mod config;
pub mod dashboard;
pub mod error;
pub mod events;
pub mod extract;
pub mod metrics;
pub mod offload;
pub mod openapi;
pub mod quota;
pub mod routes;
pub mod server;
pub mod startup;
pub mod state;
pub mod submit;

pub use config::ApiConfig;
pub use startup::Application;

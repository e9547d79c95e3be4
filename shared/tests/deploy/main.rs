//! The deployment files keep the promises of DESIGN.md's "Deployment" section: the compose
//! files, the Dockerfile and `.env.example` are parsed (no Docker engine needed) and checked
//! against each other and against `shared::config::settings::ALL`, the list of every variable
//! the binaries read. scripts/validate-deploy.sh runs the real tools (Compose, hadolint,
//! shellcheck) on the same files.

mod compose;
mod dockerfile;
mod env_example;
mod helpers;

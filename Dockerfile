# syntax=docker/dockerfile:1
#
# Tradeforge images (CPU). One runtime image holds both binaries; compose picks one with
# `command:` (`api` or `worker`). Targets, in file order:
#   dev          toolchain + cargo-watch for docker-compose.override.yml (hot reload)
#   runtime      (default: the last stage) Debian bookworm, both binaries
# The GPU worker is built by Dockerfile.gpu. Two files, because Docker's classic builder (what
# Compose falls back to without the buildx plugin) builds every stage above the target, used
# or not: a CUDA stage in this file would be pulled and compiled on every CPU build. For the
# same reason `dev` comes before the release stages: it costs a CPU build one cached layer.
# Dependencies are compiled in their own cached layer (cargo-chef): editing our code rebuilds
# only our crates. No secret or .env enters any image (see .dockerignore); configuration comes
# from the environment at run time.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm
ARG CARGO_CHEF_VERSION=0.1.78
ARG CARGO_WATCH_VERSION=8.5.3
# The unprivileged user the binaries run as (compose may override it with `user:`).
ARG APP_UID=10001

# ---- toolchain + cargo-chef (CPU builds run on the same Debian release as `runtime`) ----------
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS chef
ARG CARGO_CHEF_VERSION
RUN cargo install cargo-chef --locked --version "${CARGO_CHEF_VERSION}"
WORKDIR /app

# ---- dev: toolchain + cargo-watch; docker-compose.override.yml mounts the source over /app -----
FROM chef AS dev
ARG CARGO_WATCH_VERSION
RUN cargo install cargo-watch --locked --version "${CARGO_WATCH_VERSION}"
WORKDIR /app
CMD ["cargo", "watch", "-x", "run --bin api"]

# ---- planner: the dependency recipe (only manifests and Cargo.lock matter to it) --------------
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# ---- builder: dependencies first (cached until Cargo.toml/Cargo.lock change), then our code ---
FROM chef AS builder
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json --bin api --bin worker
COPY . .
RUN cargo build --release --locked --bin api --bin worker

# ---- runtime (default target): both binaries on the builder's Debian release, non-root --------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG APP_UID
RUN groupadd --system --gid "${APP_UID}" tradeforge \
 && useradd --system --uid "${APP_UID}" --gid tradeforge --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin tradeforge \
 && mkdir -p /results /data \
 && chown tradeforge:tradeforge /results /data
COPY --from=builder /app/target/release/api /app/target/release/worker /usr/local/bin/
ENV RESULTS_DIR=/results \
    DATA_DIR=/data \
    API_ADDR=0.0.0.0:8000 \
    WORKER_HEALTH_ADDR=0.0.0.0:9000
USER ${APP_UID}:${APP_UID}
EXPOSE 8000 9000
# The binaries probe their own /health (API_ADDR / WORKER_HEALTH_ADDR): no curl in the image.
# This one is the api's; compose gives the worker `worker healthcheck`.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["api", "healthcheck"]
CMD ["api"]

# syntax=docker/dockerfile:1
#
# Tradeforge images. One runtime image holds both binaries; compose picks one with `command:`
# (`api` or `worker`). Targets:
#   runtime      (default: the last stage) CPU image, Debian bookworm, both binaries
#   runtime-gpu  the worker built with `--features cuda`, on NVIDIA's CUDA runtime image (Ubuntu)
#   dev          toolchain + cargo-watch for docker-compose.override.yml (hot reload)
# Dependencies are compiled in their own cached layer (cargo-chef): editing our code rebuilds
# only our crates. No secret or .env enters any image (see .dockerignore); configuration comes
# from the environment at run time.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm
ARG CUDA_VERSION=12.6.3
ARG UBUNTU_RELEASE=24.04
ARG CARGO_CHEF_VERSION=0.1.78
ARG CARGO_WATCH_VERSION=8.5.3
# The unprivileged user the binaries run as (compose may override it with `user:`).
ARG APP_UID=10001

# ---- toolchain + cargo-chef (CPU builds run on the same Debian release as `runtime`) ----------
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS chef
ARG CARGO_CHEF_VERSION
RUN cargo install cargo-chef --locked --version "${CARGO_CHEF_VERSION}"
WORKDIR /app

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

# ---- GPU toolchain: CUDA devel image, with the Rust toolchain of `chef` copied in -------------
# rustup's toolchains run on any glibc >= 2.17, so the same compiler serves both builders.
FROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu${UBUNTU_RELEASE} AS chef-gpu
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
COPY --from=chef /usr/local/rustup /usr/local/rustup
COPY --from=chef /usr/local/cargo /usr/local/cargo
ENV RUSTUP_HOME=/usr/local/rustup \
    CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:${PATH}
WORKDIR /app

# ---- GPU builder: the worker with the `cuda` feature --------------------------------------------
FROM chef-gpu AS builder-gpu
# Compute capability the CUDA kernels are compiled for (80: A100; 86: RTX 30xx; 89: RTX 40xx /
# L4; 90: H100). There is no GPU at build time to detect it from.
ARG CUDA_COMPUTE_CAP=80
ENV CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP}
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json --bin api --bin worker --features worker/cuda
COPY . .
RUN cargo build --release --locked --bin api --bin worker --features worker/cuda

# ---- GPU runtime: same Ubuntu release (and so the same glibc) as builder-gpu --------------------
FROM nvidia/cuda:${CUDA_VERSION}-runtime-ubuntu${UBUNTU_RELEASE} AS runtime-gpu
ARG APP_UID
RUN groupadd --system --gid "${APP_UID}" tradeforge \
 && useradd --system --uid "${APP_UID}" --gid tradeforge --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin tradeforge \
 && mkdir -p /results /data \
 && chown tradeforge:tradeforge /results /data
COPY --from=builder-gpu /app/target/release/api /app/target/release/worker /usr/local/bin/
ENV RESULTS_DIR=/results \
    DATA_DIR=/data \
    API_ADDR=0.0.0.0:8000 \
    WORKER_HEALTH_ADDR=0.0.0.0:9000
USER ${APP_UID}:${APP_UID}
EXPOSE 9000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["worker", "healthcheck"]
CMD ["worker"]

# ---- dev: toolchain + cargo-watch; docker-compose.override.yml mounts the source over /app -----
FROM chef AS dev
ARG CARGO_WATCH_VERSION
RUN cargo install cargo-watch --locked --version "${CARGO_WATCH_VERSION}"
WORKDIR /app
CMD ["cargo", "watch", "-x", "run --bin api"]

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

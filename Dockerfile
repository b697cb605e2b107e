# bank-sim in containers: one image for `bank branch`, `bank run` and `bank serve`.
#
#   docker build -t bank-sim .
#   docker compose up --build          # 3 branches + the visualizer, and two more
#                                      # visualizers behind nginx (compose.yaml)
#
# Stages: `backend` builds the `bank` binary, `frontend` builds the browser
# visualizer with trunk, and the final image holds only the two results on
# a slim Debian (the binary needs nothing but glibc; TLS is rustls).

ARG RUST_IMAGE=rust:1.95.0-slim-bookworm

# ---------------------------------------------------------------- backend
FROM ${RUST_IMAGE} AS backend
WORKDIR /src
COPY . .
# Protos compile with protox (no protoc); ring needs only the C compiler the
# rust image has. The cache mounts keep crates and objects between builds.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p bank-backend --bin bank \
 && cp target/release/bank /usr/local/bin/bank

# --------------------------------------------------------------- frontend
FROM ${RUST_IMAGE} AS frontend
# The same tool versions `cargo xtask` installs (trunk 0.22 needs a newer
# rustc; wasm-bindgen-cli must equal the wasm-bindgen in Cargo.lock).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    rustup target add wasm32-unknown-unknown \
 && cargo install trunk --version 0.21.14 --locked \
 && cargo install wasm-bindgen-cli --version 0.2.130
WORKDIR /src
COPY . .
# wasm-opt: trunk downloads binaryen version_132 (Trunk.toml [tools]).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    trunk build --release

# ------------------------------------------------------------------ proxy
# Debian's nginx with deploy/nginx.conf, in front of several `bank serve
# --instance NAME` (compose.yaml: `proxy`, `serve-a`, `serve-b`). Built only
# when asked for (`--target proxy`); the default image is `runtime`, below.
FROM debian:bookworm-slim AS proxy
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx \
 && rm -rf /var/lib/apt/lists/*
COPY deploy/nginx.conf /etc/nginx/nginx.conf
EXPOSE 8080
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]

# ---------------------------------------------------------------- runtime
FROM debian:bookworm-slim AS runtime
RUN useradd --system --uid 10001 --home-dir /srv/bank bank \
 && mkdir -p /srv/bank /data \
 && chown bank /data
COPY --from=backend /usr/local/bin/bank /usr/local/bin/bank
COPY --from=frontend /src/dist /srv/bank/dist
COPY examples /srv/bank/examples
USER bank
WORKDIR /srv/bank
# 50051: a branch (`bank branch --listen 0.0.0.0:50051 --allow-remote`);
# 8080: the visualizer (`bank serve --addr 0.0.0.0:8080 --allow-remote`).
EXPOSE 50051 8080
VOLUME ["/data"]
# `docker stop` sends SIGTERM: a branch stops cleanly on it.
STOPSIGNAL SIGTERM
ENTRYPOINT ["bank"]
CMD ["--help"]

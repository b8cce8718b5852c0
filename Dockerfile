# syntax=docker/dockerfile:1
# kith in a small image: built in a Rust image, run as a non-root user in Debian slim with only
# libpq and CA certificates. The database is SQLite in the /data volume unless
# KITH_DATABASE__URL names a PostgreSQL server (see deploy/compose.yaml and docs/deploy.md).
#
#   docker build -t kith .
#   docker run -p 8080:8080 -v kith-data:/data kith

FROM rust:1.95-slim-trixie AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The manifest names the bench and test targets, so their sources come along (they are small).
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
COPY config config
COPY embed/embed.js embed/embed.css embed/count.js embed/
COPY embed/locales embed/locales
COPY benches benches
COPY tests/api tests/api
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin kith \
 && install -m 0755 target/release/kith /usr/local/bin/kith

FROM debian:trixie-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 kith \
 && useradd --system --uid 10001 --gid kith --home-dir /data --shell /usr/sbin/nologin kith \
 && install -d -o kith -g kith -m 0750 /data
COPY --from=build /usr/local/bin/kith /usr/local/bin/kith
COPY config/default.toml /etc/kith/default.toml
USER 10001:10001
WORKDIR /data
ENV KITH_SERVER__HOST=0.0.0.0 \
    KITH_SERVER__PORT=8080 \
    KITH_DATABASE__URL=sqlite:///data/kith.db
VOLUME ["/data"]
EXPOSE 8080
# The built-in page is for trying kith out; set KITH_SERVER__DEMO_PAGE=false in production.
ENTRYPOINT ["/usr/local/bin/kith"]
CMD ["serve"]

# syntax=docker/dockerfile:1

# ---- build ------------------------------------------------------------------
FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
# The registry and target caches only speed up rebuilds (BuildKit); the binary is
# copied out of the cached target dir in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p unionhall-api \
    && install -m 0755 target/release/unionhall /usr/local/bin/unionhall

# ---- runtime ----------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 unionhall \
    && useradd --system --uid 10001 --gid unionhall --home-dir /var/lib/unionhall \
        --no-create-home --shell /usr/sbin/nologin unionhall \
    && install -d -o unionhall -g unionhall -m 0750 /var/lib/unionhall

COPY --from=builder /usr/local/bin/unionhall /usr/local/bin/unionhall

# (The binary sets its own malloc arenas and thresholds: crates/api/src/malloc.rs.)
ENV UNIONHALL_BIND=0.0.0.0:8080 \
    UNIONHALL_DATA_DIR=/var/lib/unionhall
USER unionhall:unionhall
WORKDIR /var/lib/unionhall
EXPOSE 8080
STOPSIGNAL SIGTERM

ENTRYPOINT ["/usr/local/bin/unionhall"]
CMD ["serve"]

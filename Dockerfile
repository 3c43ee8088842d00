# Multi-stage build: compile in the Rust image, run as a non-root user on Debian slim.
#   docker build -t newsd .
#   docker run -v newsd-data:/var/lib/newsd -v $PWD/config:/etc/newsd:ro newsd
# Checked in CI by `hadolint Dockerfile` (.ci/run): no finding ignored.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked --bin newsd

FROM debian:bookworm-slim
# TLS roots are compiled in (webpki-roots); tini forwards SIGTERM so the drain runs.
# tini is pinned to bookworm's build (DL3008): a rebuild gets the same init, and a Debian
# update of it fails the build loudly instead of changing the image silently. The version is
# amd64's; a build for another architecture checks `apt-cache madison tini` for its +bN.
# A numeric uid/gid (DL3066) so the host and Kubernetes' runAsNonRoot can check it.
RUN apt-get update && apt-get install -y --no-install-recommends tini=0.19.0-1+b3 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 newsd \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/newsd newsd \
    && mkdir -p /var/lib/newsd /etc/newsd && chown 10001:10001 /var/lib/newsd
COPY --from=build /src/target/release/newsd /usr/local/bin/newsd
COPY config/newsd.toml config/feeds.txt /etc/newsd/
USER 10001:10001
VOLUME ["/var/lib/newsd"]
ENV NEWSD_CONFIG=/etc/newsd/newsd.toml \
    NEWSD_DATA_DIR=/var/lib/newsd \
    NEWSD_LOG_FORMAT=json
# /metrics, /healthz and /readyz listen on 127.0.0.1:9464 inside the container; to scrape
# from outside, mount a config with daemon.admin_listen = "0.0.0.0:9464" and publish 9464:
# that port serves only counters and probes. The stored articles never leave through it:
# the live export is on the owner-only socket /var/lib/newsd/newsd.sock, reached with
#   docker exec CONTAINER newsd export --out /var/lib/newsd/export
# The health check asks /healthz with newsd itself (no curl in the image): unhealthy when the
# scheduler loop stalls or the daemon is gone.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/newsd", "health"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/newsd"]
CMD ["run"]

# syntax=docker/dockerfile:1
# Multi-stage build: a stripped release binary with the Swift standard library linked statically,
# on a slim Debian base, as a numeric non-root user. The service needs no files at run time
# (openapi.yaml is compiled in), so it runs with a read-only root filesystem.
# scripts/container-test builds this file with podman (--pull=never, local stand-ins for both
# FROM images) and runs the image; see the README's "Deploy" section.

FROM swift:6.3-bookworm AS build
WORKDIR /src
# Tests/ and Fuzz/ are copied too: SwiftPM rejects a manifest whose targets have no sources.
# libssl-dev and pkg-config: the COpenSSL system-library target (rediss://) builds against the system OpenSSL.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
COPY Fuzz ./Fuzz
RUN swift build -c release --static-swift-stdlib --product agentstate \
 && strip -o /agentstate "$(swift build -c release --static-swift-stdlib --show-bin-path)/agentstate"

FROM debian:bookworm-slim
# Versions are not pinned: the base image tag fixes the Debian release, and Debian removes
# superseded package versions from its mirrors, so pinned versions would break rebuilds.
# libssl3: the system OpenSSL, linked dynamically, for rediss:// (TLS to Redis); ca-certificates:
# the default trust store.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && groupadd --system --gid 10001 agentstate \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin agentstate
COPY --from=build /agentstate /usr/local/bin/agentstate
USER 10001:10001
EXPOSE 8080
# Orchestrators probe over HTTP (/healthz, /readyz); the image carries no HTTP client for a HEALTHCHECK.
# checkov:skip=CKV_DOCKER_2: liveness/readiness are HTTP probes of the orchestrator or load balancer (GET /healthz, /readyz)
# SIGTERM drains: /readyz turns 503, in-flight requests finish, exit 0 within --shutdown-grace.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/agentstate"]

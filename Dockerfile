# Multi-stage build: a static-stdlib release binary on a slim Debian base.
# The service needs no files at run time (openapi.yaml is compiled in).
# The tests run with Swift 6.3; this file is not built by CI (the CI machines have no Docker engine).
FROM swift:6.3-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends libssl-dev pkg-config && rm -rf /var/lib/apt/lists/*
COPY Package.swift ./
COPY Sources ./Sources
RUN swift build -c release --static-swift-stdlib --product agentstate \
 && cp "$(swift build -c release --show-bin-path)/agentstate" /agentstate

FROM debian:bookworm-slim
# libssl3: the system OpenSSL, linked dynamically, for rediss:// (TLS to Redis); ca-certificates: the default trust store.
RUN apt-get update && apt-get install -y --no-install-recommends libssl3 ca-certificates && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 agentstate
COPY --from=build /agentstate /usr/local/bin/agentstate
USER agentstate
EXPOSE 8080
# SIGTERM drains: readiness turns 503, in-flight requests finish, exit 0 within --shutdown-grace.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/agentstate"]

# syntax=docker/dockerfile:1
#
# TokenBridge in a container: one image for `tokenbridge serve` (the default command) and
# `tokenbridge mock-llm` (docker-compose.yml runs both from it).
#
#   docker build -t tokenbridge .
#   docker run --rm -p 8080:8080 tokenbridge serve --config config/demo.yaml
#
# Stage 1 builds with the official Swift image. The project is developed and tested with
# Swift 6.3 (swift:6.3-bookworm); Package.swift asks for tools 6.0, so another 6.x bookworm tag
# can be passed with --build-arg SWIFT_IMAGE=swift:6.x-bookworm, but only 6.3 is tested.
# Stage 2 is plain Debian 12 with the three C libraries' runtime packages.

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# MARK: - Build
FROM ${SWIFT_IMAGE} AS build

# The -dev packages of the three C libraries the bridge is built on (headers + pkg-config files);
# git and ca-certificates let SwiftPM clone the package dependencies.
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends \
        libwebsockets-dev librabbitmq-dev libcurl4-openssl-dev libjemalloc-dev pkg-config git ca-certificates \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# Dependencies first, so this layer survives source edits. Package.resolved is not committed
# (.gitignore); the glob copies it when the build context has one and resolves afresh otherwise.
COPY Package.* ./
RUN swift package resolve

# Package.swift declares the test targets too, and SwiftPM refuses a package whose target
# directories are missing, so Tests/ comes along (nothing of it is built here).
COPY Sources ./Sources
COPY Tests ./Tests

# --static-swift-stdlib links the Swift runtime, Foundation, Dispatch and the bundled ICU data into
# the executable, so the runtime stage needs no Swift toolchain. What stays dynamic: glibc
# (libc, libm, libdl, libpthread), libstdc++ and libgcc_s (Swift's runtime is C++), and the system
# C libraries with their own dependencies: libwebsockets (libssl3, libcap2), librabbitmq (libssl3),
# libcurl (nghttp2, libssh2, gnutls, krb5, ldap...), and jemalloc, the process's allocator. The
# runtime packages below pull in all of them.
RUN swift build -c release --static-swift-stdlib --product tokenbridge \
    && mkdir -p /staging \
    && cp "$(swift build -c release --static-swift-stdlib --show-bin-path)/tokenbridge" /staging/ \
    && cp /usr/libexec/swift/linux/swift-backtrace-static /staging/

# MARK: - Runtime
FROM ${RUNTIME_IMAGE} AS runtime

RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends \
        libwebsockets17 librabbitmq4 libcurl4 libjemalloc2 libstdc++6 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --user-group --uid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin tokenbridge

# The bridge resolves config/tokenbridge.yaml and web/ (server.web_root) against its working directory.
WORKDIR /app
COPY --from=build /staging/tokenbridge /usr/local/bin/tokenbridge
COPY --from=build /staging/swift-backtrace-static /usr/local/libexec/swift-backtrace-static
COPY web ./web
COPY config ./config

# A crash prints a symbolicated backtrace of every thread to stderr (the static backtracer, since
# the runtime is linked in), instead of a bare "Segmentation fault".
ENV SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/usr/local/libexec/swift-backtrace-static

USER tokenbridge:tokenbridge
EXPOSE 8080

# `docker run IMAGE` serves; `docker run IMAGE mock-llm --host 0.0.0.0` or `... check-config` run the
# other subcommands of the same executable.
ENTRYPOINT ["tokenbridge"]
CMD ["serve"]

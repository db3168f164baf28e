# Roost in a container: built from source in one stage, run from a small image in the next.
#
#   docker build -t roost .
#   docker run -p 8080:8080 -v roost-data:/var/lib/roost roost
#
# The first start on an empty volume prints a client id and secret (docker logs). compose.yaml
# has the PostgreSQL variant. Settings are ROOST_* variables (docs/operator-guide.md).

FROM rust:1-bookworm AS build
WORKDIR /src
# SQLite, libpq and OpenSSL are built from source: a C compiler, make and perl are in the image.
COPY . .
RUN cargo build --release --locked -p roost \
 && mkdir -p /out/data \
 && cp target/release/roost /out/roost

# The binary links nothing but the C library and libgcc: distroless "cc" holds just those, plus
# CA certificates and a non-root user (65532), and no shell.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/roost /usr/local/bin/roost
COPY --from=build --chown=65532:65532 /out/data /var/lib/roost
WORKDIR /var/lib/roost
VOLUME ["/var/lib/roost"]
ENV ROOST_BIND=0.0.0.0:8080 \
    ROOST_DATABASE_URL=sqlite:///var/lib/roost/roost.db
EXPOSE 8080
USER 65532:65532
# Stops gracefully on SIGTERM (docker stop) and SIGINT alike.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/roost"]

# natsd: a Deno-native NATS server. See README.md, section "Container".
#   docker build -t natsd .
#   docker run -p 4222:4222 -p 8222:8222 natsd                       # embedded default config
#   docker run -v /tmp:/container -p 8080:8080 natsd -c /container/nats.conf
FROM denoland/deno:2.9.6

WORKDIR /app
# The server and what it imports at run time (tests, benchmarks and tools stay out).
COPY deno.json deno.lock main.ts mod.ts deploy.ts ./
COPY lib/ ./lib/

# Dependencies and compiled modules are cached at build time, as the unprivileged user that runs
# the server; --cached-only below then guarantees nothing is fetched when the container starts.
USER deno
RUN deno cache main.ts deploy.ts lib/auth/bcrypt_worker.ts

# Clients (TCP), WebSocket, HTTP monitoring.
EXPOSE 4222 8080 8222

# Only what the server needs: listeners, reading the config and certificates, $VARIABLES.
ENTRYPOINT ["deno", "run", "--cached-only", "--allow-net", "--allow-read", "--allow-env", "--no-prompt", "--v8-flags=--max-semi-space-size=4", "main.ts"]
# No -c: the embedded default config (clients on 0.0.0.0:4222), with monitoring on 8222.
CMD ["-m", "8222"]

# syntax=docker/dockerfile:1
#
# The PicWish background gateway as a container.
#
#   docker build -t picwish-gateway .
#   docker run -p 4000:4000 -v gateway-data:/data \
#     -e PICWISH_API_KEY=... -e GATEWAY_API_KEYS=web:<a key of 16+ characters> \
#     -e PUBLIC_URL=https://gateway.example.com picwish-gateway
#
# HOST is 0.0.0.0 inside the container, so the gateway refuses to start unless GATEWAY_API_KEYS
# (or GATEWAY_API_KEYS_FILE) is set, or ALLOW_ANONYMOUS=true says keyless use is meant. Set
# PUBLIC_URL to the address clients reach: result links are signed against it (without it they
# would name 0.0.0.0). Without PICWISH_API_KEY the gateway runs its built-in local engine (not AI).

ARG NODE_IMAGE=node:24-bookworm-slim

# Toolchain for native modules: better-sqlite3 (and sharp) run install scripts; when no prebuilt
# binary matches, better-sqlite3 compiles with node-gyp.
FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app

# 1. Build: every dependency, then tsc → dist/ (the gateway, and the demo page in dist/demo with
#    the client kit's browser bundle, all content-hashed; nothing of src/ is needed at run time).
FROM toolchain AS build
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build-kit.ts ./scripts/
COPY client ./client
COPY src ./src
RUN npm run build

# 2. Production dependencies only, install scripts included.
FROM toolchain AS deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# 3. Runtime: no toolchain, no dev dependencies, not root.
FROM ${NODE_IMAGE} AS runtime
# Image URLs from clients never reach the container's own or private networks.
ENV NODE_ENV=production \
    IMAGE_URL_ALLOW_PRIVATE=false \
    HOST=0.0.0.0 \
    PORT=4000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 4000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM lets the gateway finish steps in flight and close SSE streams (src/main.ts).
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]

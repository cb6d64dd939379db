# OWP Pool server. Build: docker build -t owp-pool .   Run: docker compose up
# Stage 1: build the bundles with the full toolchain.
FROM node:20-alpine AS build
RUN apk add --no-cache python3 make g++
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# Stage 2: production dependencies only (better-sqlite3 compiles here for musl).
FROM node:20-alpine AS deps
RUN apk add --no-cache python3 make g++
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# Stage 3: the runtime image, as an unprivileged user with the database on a volume.
FROM node:20-alpine
ENV NODE_ENV=production \
    OWP_HOST=0.0.0.0 \
    OWP_PORT=8787 \
    OWP_DB_PATH=/data/owp.db
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8787
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD wget -qO- http://127.0.0.1:8787/healthz || exit 1
# The young generation capped at 8 MB per semi-space (V8 picks 16 MB on a machine with this much
# memory): ~40 MB less RSS under load for about 2 % of throughput (docs/performance.md). Keep the
# flags the same as `npm run start:prod`'s (server/heap.test.ts checks).
CMD ["node", "--max-semi-space-size=8", "dist/server/main.js"]

# Heart-disease prediction API image. One source of truth: `npm run image:build` and the Dagger `build` function
# (Directory.dockerBuild) both use this file with build args only (no BuildKit-only syntax, no `# syntax=` line,
# because no registry is reachable to fetch a frontend image and the Debian engine uses the classic builder).
#
# Build args:
#   BASE_IMAGE         Node 24 image (default the official slim image; offline: scripts/image/build/ensure-base-image.sh)
#   MODEL_DIR_CONTEXT  build-context directory holding model.onnx + model.json (default artifacts)
# Extra CA bundle (corporate proxy): scripts/image/build/certs/extra-ca.crt in the context, used by npm only, see there.
ARG BASE_IMAGE=node:24-bookworm-slim

# ---- install: every dependency exactly as locked (the only stage that talks to the npm registry) -----------------
FROM ${BASE_IMAGE} AS install
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false
COPY scripts/image/build/certs/ /tmp/extra-ca/
COPY package.json package-lock.json .npmrc ./
# .npmrc sets ignore-scripts=true: no install script runs (onnxruntime-node's would fetch CUDA libraries; its CPU binaries
# ship in the npm package). More fetch retries than npm's 2: several builds of this stage can run at once (the image,
# trainer and compose tests), and one dropped registry connection should not fail a build.
RUN set -eu; \
    if [ -f /tmp/extra-ca/extra-ca.crt ]; then \
      export NODE_EXTRA_CA_CERTS=/tmp/extra-ca/extra-ca.crt npm_config_cafile=/tmp/extra-ca/extra-ca.crt; \
    fi; \
    npm ci --no-audit --no-fund --loglevel=error --fetch-retries=5 --fetch-retry-mintimeout=5000; \
    npm cache clean --force 2>/dev/null; rm -rf /root/.npm /tmp/extra-ca

# ---- build: TypeScript compile ------------------------------------------------------------------------------------
FROM install AS build
COPY tsconfig.json tsconfig.build.json ./
COPY data/feature-schema.json data/feature-schema.json
COPY src ./src
COPY scripts/image/build/bundle-server.ts scripts/image/build/bundle-server-options.ts scripts/image/build/runtime-packages.ts scripts/image/build/
# tsc -> dist/, then one ESM bundle of the server for a faster cold start (see scripts/image/build/bundle-server.ts),
# and beside it runtime-packages.json: the packages the bundle still imports at run time.
RUN npm run build && npx tsx scripts/image/build/bundle-server.ts dist/api/server.js bundle/api/server.js

# ---- deps: exactly what the server bundle loads (cached while its list of run-time imports stays the same) --------
# runtime-packages.ts keeps the bundle's external imports and their dependencies as package-lock.json resolves them,
# and deletes every other installed package: the image carries no training, deploy or dev dependency.
# Size pruning, none of it loaded at run time: onnxruntime-node ships prebuilt binaries for every OS/arch (~290 MB),
# only this platform's CPU build is kept; source maps, type declarations and docs; packages' test .env fixtures
# (so the image's "no .env files" check stays strict).
FROM install AS deps
COPY --from=build /app/bundle/api/runtime-packages.json /tmp/runtime-packages.json
COPY scripts/image/build/runtime-packages.ts /tmp/runtime-packages.ts
COPY scripts/image/build/prune-onnxruntime.sh /tmp/prune-onnxruntime.sh
# Node 24 runs the TypeScript file directly (type stripping): no dev tool is needed to prune the dev tools away.
RUN set -eu; \
    node /tmp/runtime-packages.ts prune /tmp/runtime-packages.json; \
    sh /tmp/prune-onnxruntime.sh node_modules; \
    find node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \
      -o \( -name '*.md' ! -iname 'license*' \) -o -name '.env' -o -name '.env.*' \) -delete; \
    cp /tmp/runtime-packages.json node_modules/.runtime-packages.json

# ---- trainer-deps: what `npm run retrain` / `retrain:trigger` load: the production dependencies and tsx -----------
# The trainer runs the TypeScript sources with tsx (the npm scripts in package.json are the one definition of the
# commands), so it keeps the package.json dependencies and tsx with their closures (runtime-packages.ts again), and
# drops the dev tools. onnxruntime-node is pruned to this platform's CPU build as for the API. BuildKit skips these two
# stages when building the API (the default, last stage); the classic builder builds them too.
FROM install AS trainer-deps
COPY scripts/image/build/runtime-packages.ts /tmp/runtime-packages.ts
COPY scripts/image/build/prune-onnxruntime.sh /tmp/prune-onnxruntime.sh
RUN set -eu; \
    node -e 'const p=require("./package.json"); console.log(JSON.stringify([...Object.keys(p.dependencies), "tsx"]))' \
      > /tmp/trainer-packages.json; \
    node /tmp/runtime-packages.ts prune /tmp/trainer-packages.json; \
    sh /tmp/prune-onnxruntime.sh node_modules

# ---- trainer: `docker build --target trainer` (npm run image:build -- --target trainer) ---------------------------
# Retraining and its drift trigger, for the chart's CronJob, compose's trainer profile and Dagger. No training data
# is baked in: mount it (and pass --data) or let training download it per data/manifest.json into data/raw/ (a
# writable mount on a read-only root). Writable at run time: /tmp (HOME, npm's and tsx's caches), data/raw, runs,
# artifacts.
FROM ${BASE_IMAGE} AS trainer
WORKDIR /app
ENV NODE_ENV=production \
    HOME=/tmp \
    TMPDIR=/tmp \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_CACHE=/tmp/.npm \
    ORT_DISABLE_TELEMETRY=1
COPY package.json tsconfig.json ./
COPY --from=trainer-deps /app/node_modules ./node_modules
COPY data/feature-schema.json data/manifest.json data/
COPY src ./src
USER 10001:10001
# `docker run <trainer image> retrain:trigger -- --api-url http://api:8000`; npm passes SIGTERM on to the command.
ENTRYPOINT ["npm", "run", "--silent"]
CMD ["retrain", "--", "--help"]

# ---- runtime ------------------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS runtime
WORKDIR /app
# PREDICTION_LOG_PATH: the SQLite prediction log on the one writable path of a read-only root (Kubernetes and compose
# mount /tmp); set DATABASE_URL for a log that outlives the container.
# ORT_DISABLE_TELEMETRY: onnxruntime >= 1.2x on Linux otherwise tries to persist a device id under $HOME/.cache
# (fails on a read-only root) and to upload telemetry.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    MODEL_DIR=/app/artifacts \
    TMPDIR=/tmp \
    ORT_DISABLE_TELEMETRY=1 \
    PREDICTION_LOG_PATH=/tmp/prediction-log.sqlite

# Files stay root-owned and read-only to the service user: the process cannot modify its own code or model.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
# The bundled server stands where tsc put it, so CMD and import.meta.url-relative paths are unchanged.
COPY --from=build /app/bundle/api/server.js ./dist/api/server.js
COPY data/feature-schema.json data/feature-schema.json
ARG MODEL_DIR_CONTEXT=artifacts
# The trained model is baked in; mount a volume on /app/artifacts (or set MODEL_DIR) to replace it.
COPY ${MODEL_DIR_CONTEXT}/model.onnx ${MODEL_DIR_CONTEXT}/model.json /app/artifacts/

# Labels (model version, OCI annotations) are set by the builders from the artifact contract (src/contract):
# `npm run image:build` passes --label, the Dagger module withLabel; nothing here restates their keys.

# Numeric non-root user: Kubernetes runAsNonRoot can verify it without an /etc/passwd entry.
USER 10001:10001
EXPOSE 8000

# No curl in the image: Node's fetch does the probe.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# Node is PID 1 (exec form, no shell): SIGTERM reaches the server, which drains in-flight requests and exits 0.
STOPSIGNAL SIGTERM
CMD ["node", "dist/api/server.js"]

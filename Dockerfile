# DreamChat bot image. The same image runs the bot (node dist/src/main.js) and scale-out
# workers (node dist/src/worker.js); docker-compose.yml picks the command.

# Build stage: every dependency, and the TypeScript compiled to JavaScript in dist/.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json mikro-orm.config.ts ./
COPY src ./src
COPY commands ./commands
COPY migrations ./migrations
RUN npm run build

# Run stage: production dependencies and the compiled output. The sources stay beside it for the occasional tools
# run through tsx (npm run migrate, deploy-commands, rotate-secrets, reembed).
FROM node:24-bookworm-slim

ENV NODE_ENV=production \
    DATA_DIR=/app/data \
    TRANSFORMERS_CACHE_DIR=/app/models \
    HEALTH_HOST=0.0.0.0

WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY tsconfig.json mikro-orm.config.ts ./
COPY src ./src
COPY commands ./commands
COPY migrations ./migrations
COPY --from=build /app/dist ./dist

RUN mkdir -p /app/data /app/models && chown -R node:node /app/data /app/models
USER node

EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.HEALTH_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"

# node is the container's main process (PID 1), so `docker stop` and `docker compose stop` deliver SIGTERM to the bot
# itself, which then shuts down gracefully (README, Operations → Stopping). Not `npm start`: that would compile again.
CMD ["node", "dist/src/main.js"]

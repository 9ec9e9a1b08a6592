# DreamChat bot image. The same image runs the bot (npm start) and scale-out
# workers (npm run worker); docker-compose.yml picks the command.
FROM node:24-bookworm-slim

ENV NODE_ENV=production \
    DATA_DIR=/app/data \
    TRANSFORMERS_CACHE_DIR=/app/models

WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY tsconfig.json mikro-orm.config.ts ./
COPY src ./src
COPY commands ./commands
COPY migrations ./migrations

RUN mkdir -p /app/data /app/models && chown -R node:node /app/data /app/models
USER node

EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.HEALTH_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"

CMD ["npm", "start"]

# One image for API, worker and migrations. The SPA is built in a Node stage.
FROM node:20-bookworm-slim AS spa
WORKDIR /src/frontend
COPY frontend/package*.json ./
RUN npm ci
COPY frontend/ ./
COPY schema.graphql /src/schema.graphql
RUN npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY backend/ backend/
RUN pip install --no-cache-dir .
COPY --from=spa /src/frontend/dist /app/frontend/dist
ENV M360_SPA_DIR=/app/frontend/dist
RUN useradd --system --uid 10001 member360 && mkdir -p /data/exports && chown member360 /data/exports
USER member360
EXPOSE 8000
CMD ["member360", "serve", "--host", "0.0.0.0", "--port", "8000"]

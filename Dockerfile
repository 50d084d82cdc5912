# syntax=docker/dockerfile:1
# Stadtlotse: one image for every replica. Build: docker build -t stadtlotse .
# CI runs these commands without Docker: tools/check_wheel.sh builds the wheel and hands it to
# tools/check_image.py, which installs and runs it as this file says.

# ---- build the wheel ---------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY bot/ bot/
COPY handlers/ handlers/
COPY flows/ flows/
COPY services/ services/
COPY storage/ storage/
COPY scheduler/ scheduler/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# ---- the runtime -------------------------------------------------------------------------
FROM python:3.11-slim-bookworm
# DejaVu: umlauts and the euro sign in the pictures the bot draws (auction price curves)
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core=2.37-6 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
COPY constraints.txt /tmp/constraints.txt
RUN python -m venv /opt/stadtlotse \
    && /opt/stadtlotse/bin/pip install --no-cache-dir -c /tmp/constraints.txt /wheels/stadtlotse-*.whl \
    && rm -rf /wheels /tmp/constraints.txt \
    && groupadd --system --gid 10001 stadtlotse \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/stadtlotse --create-home stadtlotse

ENV PATH=/opt/stadtlotse/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STADTLOTSE_WEB_HOST=0.0.0.0 \
    STADTLOTSE_WEB_PORT=8080 \
    STADTLOTSE_DATA_DIR=/var/lib/stadtlotse \
    STADTLOTSE_DATABASE_URL=sqlite:////var/lib/stadtlotse/stadtlotse.db

USER 10001:10001
WORKDIR /var/lib/stadtlotse
VOLUME ["/var/lib/stadtlotse"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('STADTLOTSE_WEB_PORT', '8080')}/healthz\", timeout=4)"]
ENTRYPOINT ["stadtlotse"]
CMD ["run"]

# kimaki-tui headless, with OpenCode inside: `kimaki --no-tui` as an unprivileged user.
# Secrets come from the environment (KIMAKI_BOT_TOKEN, GEMINI_API_KEY, provider keys); kimaki's
# state lives on the /data volume and the projects it serves under /projects.
# Build: docker build -t kimaki-tui .   Run: see deploy/compose.yaml and README "Running in a container".
FROM python:3.11-slim-bookworm

# The OpenCode kimaki is tested with (scripts/setup.sh pins the same version).
ARG OPENCODE_VERSION=1.18.33

RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm git libopus0 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && npm install -g --no-audit --no-fund "opencode-ai@${OPENCODE_VERSION}" \
    && npm cache clean --force \
    && useradd --create-home --uid 10001 kimaki \
    && mkdir -p /data /projects \
    && chown kimaki:kimaki /data /projects

WORKDIR /opt/kimaki-tui
COPY pyproject.toml README.md ./
COPY kimaki_tui ./kimaki_tui
# ripgrep's wheel puts `rg` on PATH for OpenCode's grep and glob tools.
RUN pip install --no-cache-dir . "ripgrep==14.1.0"

USER kimaki
ENV KIMAKI_DATA_DIR=/data \
    KIMAKI_LOCK_PORT=29988 \
    KIMAKI_NO_TUI=1 \
    PYTHONUNBUFFERED=1
VOLUME ["/data", "/projects"]
WORKDIR /projects

# /readyz answers 200 once Discord is connected and OpenCode is healthy (loopback only, so the
# check runs inside the container).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:29988/readyz', timeout=4)"

CMD ["kimaki", "--no-tui"]

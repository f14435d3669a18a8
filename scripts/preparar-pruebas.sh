#!/usr/bin/env bash
# Makes sure what the test suite needs is there: a reachable PostgreSQL and Debian's Chromium.
set -euo pipefail

url="${ENLACE_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
if ! .venv/bin/python -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$url" 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "Iniciando PostgreSQL local..."
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    sleep 2
  fi
fi
.venv/bin/python -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=5).close()" "$url" || {
  echo "No hay PostgreSQL en $url. Define ENLACE_TEST_DATABASE_URL o inicia el servidor." >&2
  exit 1
}

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Instalando Chromium de Debian para las pruebas del panel..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || true
  fi
fi
[ -x /usr/bin/chromium ] || echo "Aviso: /usr/bin/chromium no existe; instala el paquete 'chromium' para las pruebas e2e." >&2
exit 0

#!/usr/bin/env bash
# What the container runs, without Docker (no engine on this machine): build the bundles, make a
# production install of them in a clean folder, start `node dist/server/main.js` there, check it
# answers, then stop it with SIGTERM and check it exits cleanly. Node gets the flags
# `npm run start:prod` gives it (and the Dockerfile's CMD).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

npm run build
cp package.json package-lock.json "$work/"
cp -r dist "$work/dist"
cp -r bin "$work/bin"
cd "$work"
echo "== production install in $work"
npm ci --omit=dev --no-audit --no-fund --loglevel=error

port=$((20000 + RANDOM % 20000))
token="smoke-admin-token-$(date +%s)-$RANDOM"
OWP_PORT=$port OWP_DB_PATH="$work/data/owp.db" OWP_ADMIN_TOKEN=$token OWP_LOG_LEVEL=warn \
  node $(node -p "require('./package.json').scripts['start:prod'].split(' ').filter((a) => a.startsWith('--')).join(' ')") \
  dist/server/main.js > "$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do
  curl -fs "http://127.0.0.1:$port/healthz" > /dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "http://127.0.0.1:$port/healthz"; echo
curl -fs -X POST "http://127.0.0.1:$port/v1/admin/repos" -H "x-admin-token: $token" \
  -H 'content-type: application/json' -d '{"repo":"demo","max_open_prs":2}'; echo
curl -fs "http://127.0.0.1:$port/v1/admin/state" -H "x-admin-token: $token"; echo
echo "== the owp command from the production install (no tsx)"
OWP_ADMIN_TOKEN=$token node bin/owp.js --url "http://127.0.0.1:$port" admin repos
echo "== a backup of the running server's database, as in the container (node dist/cli/owp.js)"
node dist/cli/owp.js backup --db "$work/data/owp.db" --to "$work/backup/owp.db"
test -s "$work/backup/owp.db"
kill -TERM $pid
wait $pid
echo "== production start: ok (server stopped cleanly on SIGTERM)"
if grep -q "$token" "$work/server.log"; then echo "the admin token appeared in the log" >&2; exit 1; fi
cd "$root"

#!/usr/bin/env bash
# Exercises every deployment file as far as this machine allows (docker has no engine here):
#   - Dockerfile: multi-stage, non-root final stage, every COPY source exists, its ENV accepted
#     by `kith check-config`
#   - deploy/compose.yaml: parses as YAML, the expected shape (PostgreSQL, hardening, port on
#     loopback only), its kith environment accepted by `kith check-config`
#   - deploy/kith.service: `systemd-analyze verify`, and `systemd-analyze security` exposure
#     at most 2.0
#   - deploy/nginx.conf: `nginx -t` (with a throwaway certificate)
#   - deploy/Caddyfile: `caddy validate`
# nginx and caddy come from Debian's packages (installed once when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/kith-target}"
WORK=$(mktemp -d /tmp/kith-deploy-check.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
passed=0
failed=0
ok() { echo "ok: $1"; passed=$((passed + 1)); }
fail() { echo "FAILED: $1" >&2; failed=$((failed + 1)); }

missing=()
command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
command -v caddy >/dev/null 2>&1 || missing+=(caddy)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
python3 -c 'import yaml' 2>/dev/null || {
  PY="/var/tmp/kith-venv-deploy/bin/python"
  [ -x "$PY" ] || { python3 -m venv /var/tmp/kith-venv-deploy && /var/tmp/kith-venv-deploy/bin/pip install -q pyyaml; }
}
PY="${PY:-python3}"

cargo build -q --bin kith
case "$CARGO_TARGET_DIR" in
  /*) KITH="$CARGO_TARGET_DIR/debug/kith" ;;
  *) KITH="$(pwd)/$CARGO_TARGET_DIR/debug/kith" ;;
esac

# --- Dockerfile
if "$PY" - Dockerfile <<'PY'
import re, sys, os
lines = open(sys.argv[1]).read().replace("\\\n", " ").splitlines()
stages = [l for l in lines if re.match(r"\s*FROM\s", l, re.I)]
assert len(stages) >= 2, "not multi-stage"
final = lines[lines.index(stages[-1]):]
users = [l.split()[1] for l in final if re.match(r"\s*USER\s", l, re.I)]
assert users and users[-1].split(":")[0] not in ("0", "root"), f"final stage runs as {users}"
for l in lines:
    m = re.match(r"\s*COPY\s+(.*)", l, re.I)
    if not m or "--from=" in m.group(1):
        continue
    parts = [p for p in m.group(1).split() if not p.startswith("--")]
    for src in parts[:-1]:
        assert os.path.exists(src), f"COPY source {src} does not exist"
PY
then ok "Dockerfile: multi-stage, non-root, COPY sources exist"; else fail "Dockerfile"; fi
docker_env=$(sed -n '/^ENV /,/^[^ ]/p' Dockerfile | grep -o 'KITH_[A-Z_]*=[^ \\]*' | sed 's#/data/#'"$WORK"'/#')
if env -i PATH="$PATH" $docker_env "$KITH" check-config >/dev/null; then
  ok "Dockerfile: its ENV is a valid kith configuration"
else fail "Dockerfile ENV refused by kith check-config"; fi

# --- compose.yaml
if "$PY" - deploy/compose.yaml "$WORK/compose.env" <<'PY'
import shlex, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
services = doc["services"]
assert services["db"]["image"].startswith("postgres:"), "db is not PostgreSQL"
kith = services["kith"]
assert kith["build"]["context"] == ".." and kith["build"]["dockerfile"] == "Dockerfile"
assert kith["depends_on"]["db"]["condition"] == "service_healthy"
assert kith["stop_grace_period"] == "35s", "docker stop would cut requests in flight"
assert kith["read_only"] is True and kith["cap_drop"] == ["ALL"]
assert "no-new-privileges:true" in kith["security_opt"]
assert all(p.startswith("127.0.0.1:") for p in kith["ports"]), "kith published beyond loopback"
env = kith["environment"]
assert env["KITH_DATABASE__URL"].startswith("postgres://")
assert "172.16.0.0/12" in env["KITH_SERVER__TRUSTED_PROXIES"], "the proxy is not trusted"
with open(sys.argv[2], "w") as out:
    for key, value in env.items():
        value = str(value).replace("${KITH_DB_PASSWORD}", "placeholder")
        value = value.replace("${KITH_PUBLIC_URL:-http://localhost:8080}", "http://localhost:8080")
        out.write(f"{key}={shlex.quote(value)}\n")
PY
then ok "compose.yaml parses, PostgreSQL + hardened kith on loopback"; else fail "compose.yaml"; fi
if [ -f "$WORK/compose.env" ] && (set -a; . "$WORK/compose.env"; set +a
    shown=$("$KITH" check-config) && [[ "$shown" == *'"172.16.0.0/12"'* ]]); then
  ok "compose.yaml: its kith environment is a valid configuration"
else fail "compose.yaml environment refused by kith check-config"; fi

# --- systemd unit (the binary path pointed at the one just built)
sed "s#/usr/local/bin/kith#$KITH#" deploy/kith.service > "$WORK/kith.service"
if out=$(systemd-analyze verify "$WORK/kith.service" 2>&1) && [ -z "$out" ]; then
  ok "kith.service: systemd-analyze verify"
else fail "kith.service: systemd-analyze verify: $out"; fi
if systemd-analyze security --offline=true --threshold=20 "$WORK/kith.service" >"$WORK/security.txt" 2>&1; then
  ok "kith.service: $(grep -o 'Overall exposure level.*' "$WORK/security.txt")"
else cat "$WORK/security.txt" >&2; fail "kith.service: exposure above 2.0"; fi
unit_env=$(grep '^Environment=' deploy/kith.service | sed 's/^Environment=//; s#/var/lib/kith/#'"$WORK"'/#')
if env -i PATH="$PATH" $unit_env "$KITH" check-config >/dev/null; then
  ok "kith.service: its Environment is a valid configuration"
else fail "kith.service Environment refused by kith check-config"; fi

# --- nginx
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=comments.example.com \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
sed -e "s#/etc/letsencrypt/live/comments.example.com/fullchain.pem#$WORK/cert.pem#" \
    -e "s#/etc/letsencrypt/live/comments.example.com/privkey.pem#$WORK/key.pem#" \
    deploy/nginx.conf > "$WORK/kith.conf"
cat > "$WORK/nginx.conf" <<CONF
pid $WORK/nginx.pid;
error_log $WORK/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $WORK;
    include $WORK/kith.conf;
}
CONF
if nginx -t -q -e "$WORK/error.log" -c "$WORK/nginx.conf" -p "$WORK" 2>"$WORK/nginx.out"; then
  ok "nginx.conf: nginx -t"
else cat "$WORK/nginx.out" >&2; fail "nginx.conf: nginx -t"; fi

# --- Caddy
if XDG_DATA_HOME="$WORK" XDG_CONFIG_HOME="$WORK" caddy validate --config deploy/Caddyfile \
    --adapter caddyfile >"$WORK/caddy.out" 2>&1; then
  ok "Caddyfile: caddy validate"
else cat "$WORK/caddy.out" >&2; fail "Caddyfile: caddy validate"; fi

echo "deploy check: $passed passed, $failed failed"
[ "$failed" = 0 ]

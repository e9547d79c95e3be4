#!/usr/bin/env bash
# Entrypoint of the postgres:17-bookworm stand-in (scripts/offline-images.sh), PostgreSQL 15
# from Debian. It keeps the official image's contract:
#   POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_USER
#   (default postgres, the superuser), POSTGRES_DB (default: the user), POSTGRES_INITDB_ARGS,
#   POSTGRES_INITDB_WALDIR, POSTGRES_HOST_AUTH_METHOD (default scram-sha-256), the *_FILE
#   forms of the first four, and /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz|*.sql.xz|
#   *.sql.zst, run once, when PGDATA is empty.
# Local (socket and 127.0.0.1) connections are trusted, every other host needs the password.
# The server runs as `postgres` and is exec'd: Docker's stop signal (SIGINT) reaches it.
set -Eeuo pipefail

note() { printf '%s\n' "$*" >&2; }

# file_env VAR [DEFAULT]: VAR from VAR or from the file named by VAR_FILE (not both).
file_env() {
  local var="$1" file_var="${1}_FILE" default="${2:-}" value
  if [[ -n "${!var:-}" && -n "${!file_var:-}" ]]; then
    note "error: both $var and $file_var are set (but are exclusive)"
    exit 1
  fi
  value="$default"
  if [[ -n "${!var:-}" ]]; then
    value="${!var}"
  elif [[ -n "${!file_var:-}" ]]; then
    value="$(<"${!file_var}")"
  fi
  export "$var=$value"
  unset "$file_var"
}

# `postgres --help`, `-V`, `-C param` and the like only print: no initialisation for them.
wants_help() {
  local arg
  for arg; do
    case "$arg" in
      -'?' | --help | --describe-config | -V | --version) return 0 ;;
    esac
  done
  return 1
}

setup_env() {
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  : "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
}

check_password() {
  if [[ -z "$POSTGRES_PASSWORD" && "$POSTGRES_HOST_AUTH_METHOD" != trust ]]; then
    cat >&2 <<'MSG'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
       connections without a password. This is *not* recommended.
MSG
    exit 1
  fi
}

psql_run() {
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"
}

init_db() {
  local -a args=()
  check_password
  if [[ -n "${POSTGRES_INITDB_WALDIR:-}" ]]; then
    args+=(--waldir "$POSTGRES_INITDB_WALDIR")
  fi
  # POSTGRES_INITDB_ARGS is a shell-quoted argument string, as in the official image; the
  # password reaches initdb through a pipe, never the command line.
  if [[ -n "$POSTGRES_PASSWORD" ]]; then
    eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") "${args[@]}" '"$POSTGRES_INITDB_ARGS"
  else
    eval 'initdb --username="$POSTGRES_USER" "${args[@]}" '"$POSTGRES_INITDB_ARGS"
  fi

  # Trust stays for the socket and 127.0.0.1 (initdb's default, as in the official image);
  # every other address needs the password.
  printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"

  # A private server, on the socket only, for the database and the init scripts.
  PGUSER="$POSTGRES_USER" PGPASSWORD="$POSTGRES_PASSWORD" \
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
  export PGPASSWORD="$POSTGRES_PASSWORD"

  if [[ "$POSTGRES_DB" != postgres ]]; then
    local exists
    exists="$(psql_run --dbname postgres --set db="$POSTGRES_DB" --tuples-only <<<"SELECT 1 FROM pg_database WHERE datname = :'db' ;")"
    if [[ -z "${exists// /}" ]]; then
      psql_run --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db" ;'
    fi
  fi

  local f
  for f in /docker-entrypoint-initdb.d/*; do
    [[ -e "$f" ]] || continue
    case "$f" in
      *.sh)
        if [[ -x "$f" ]]; then
          note "$0: running $f"
          "$f"
        else
          note "$0: sourcing $f"
          # shellcheck disable=SC1090
          . "$f"
        fi
        ;;
      *.sql) note "$0: running $f"; psql_run --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sql.gz) note "$0: running $f"; gunzip -c "$f" | psql_run --dbname "$POSTGRES_DB" ;;
      *.sql.xz) note "$0: running $f"; xzcat "$f" | psql_run --dbname "$POSTGRES_DB" ;;
      *.sql.zst) note "$0: running $f"; zstd -dc "$f" | psql_run --dbname "$POSTGRES_DB" ;;
      *) note "$0: ignoring $f" ;;
    esac
  done

  pg_ctl -D "$PGDATA" -m fast -w stop
  unset PGPASSWORD
  note ''
  note 'PostgreSQL init process complete; ready for start up.'
  note ''
}

if [[ "${1:0:1}" == - ]]; then
  set -- postgres "$@"
fi

if [[ "$1" == postgres ]] && ! wants_help "$@"; then
  if [[ "$(id -u)" == 0 ]]; then
    # As root: make PGDATA the postgres user's, then run this script again as that user.
    mkdir -p "$PGDATA" /var/run/postgresql
    find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
    chmod 00700 "$PGDATA" || :
    chown postgres:postgres /var/run/postgresql
    chmod 03775 /var/run/postgresql || :
    exec gosu postgres "${BASH_SOURCE[0]}" "$@"
  fi

  note "postgres:17-bookworm STAND-IN (scripts/offline-images.sh): PostgreSQL $(postgres -V | awk '{print $3}') from Debian bookworm, not 17"
  setup_env
  if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
    init_db
  else
    data_version="$(<"$PGDATA/PG_VERSION")"
    if [[ "$data_version" != "$PG_MAJOR" ]]; then
      note "Error: $PGDATA holds a PostgreSQL $data_version cluster; this stand-in runs PostgreSQL $PG_MAJOR."
      note "       Use a new volume with the stand-in, or the real postgres image for this one."
      exit 1
    fi
    note ''
    note 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
    note ''
  fi
fi

exec "$@"

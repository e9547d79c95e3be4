#!/bin/sh
# Entrypoint of the redis:7-bookworm stand-in (scripts/offline-images.sh), Redis 7.0 from
# Debian. As the official one: options alone (or a .conf file) mean redis-server; as root,
# redis-server gets /data chown'd to redis and runs as redis (gosu, exec'd: signals reach it).
set -e

# first arg is `-f` or `--some-option`, or a config file
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
	find . \! -user redis -exec chown redis '{}' +
	exec gosu redis "$0" "$@"
fi

if [ "$1" = 'redis-server' ]; then
	echo "redis:7-bookworm STAND-IN (scripts/offline-images.sh): Redis $(redis-server --version | sed 's/.* v=\([^ ]*\).*/\1/') from Debian bookworm, not 7.4" >&2
	# The official image's redis-server is compiled with protected mode off (so that other
	# containers may connect without a password); Debian's is not: without a config file,
	# turn it off here, ahead of the caller's own options (a later --protected-mode wins).
	case "${2:-}" in
		'' | -*)
			shift
			set -- redis-server --protected-mode no "$@"
			;;
	esac
fi

# a restrictive umask for what redis writes, unless one was set already
um="$(umask)"
if [ "$um" = '0022' ]; then
	umask 0077
fi

exec "$@"

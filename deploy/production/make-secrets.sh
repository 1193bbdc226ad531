#!/usr/bin/env bash
# Makes every file compose.yaml mounts from ./secrets/: a private CA, the brokers' and the
# database's TLS certificates, random passwords, Kafka's JAAS file and the IOC's database URL.
# For trials and for centres without a PKI; a real installation takes its certificates from
# the province's CA.  Never overwrites an existing file (delete it to renew).
#
#   deploy/production/make-secrets.sh [DIR]          (default: deploy/production/secrets)
#   EXTRA_SAN="DNS:ioc-db.internal,IP:10.0.0.5"      more names for every certificate
#   DB_HOST=timescaledb                               host name in the database URL
set -Eeuo pipefail
DIR=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/secrets}
DB_HOST=${DB_HOST:-timescaledb}
DAYS=${DAYS:-825}
umask 077
mkdir -p "$DIR"
cd "$DIR"
say() { printf 'secrets: %s\n' "$*"; }

password() { # file: 32 random URL-safe characters
  [[ -f $1 ]] && return 0
  openssl rand -base64 48 | tr -d '\n/+=' | cut -c1-32 >"$1"
  say "made $1"
}

if [[ ! -f ca.crt ]]; then
  openssl req -x509 -newkey rsa:3072 -nodes -keyout ca.key -out ca.crt -days 3650 \
    -subj "/O=IOC Kien Giang/CN=IOC Kien Giang private CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  say "made ca.crt (private CA; ca.key stays here, keep it offline)"
fi

cert() { # name cn san -> name.crt, name.key (PKCS#8, unencrypted)
  local name=$1 cn=$2 san=$3
  [[ -f $name.crt ]] && return 0
  openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "/O=IOC Kien Giang/CN=$cn" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days "$DAYS" -out "$name.crt" \
    -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' "$san") 2>/dev/null
  rm -f "$name.csr"
  say "made $name.crt for $san"
}

extra=${EXTRA_SAN:+,$EXTRA_SAN}
for i in 1 2 3; do
  cert "kafka-$i" "kafka-$i" "DNS:kafka-$i$extra"
  # Kafka's PEM keystore: the private key and its certificate chain in one file
  [[ -f kafka-$i.pem ]] || { cat "kafka-$i.key" "kafka-$i.crt" ca.crt >"kafka-$i.pem"; say "made kafka-$i.pem"; }
done
cert pg_server "$DB_HOST" "DNS:$DB_HOST$extra"

password postgres_password
password ioc_db_password
password kafka_ioc_password
password webhook_secret
password soc_secret
password ack_link_key  # the notifier signs acknowledge links with it, the dashboard checks them
for f in smtp_password telegram_token; do  # given by the mail administrator / BotFather
  [[ -f $f ]] || { : >"$f"; say "made empty $f: put the real value in it"; }
done

if [[ ! -f kafka_jaas.conf ]]; then
  # brokers authenticate each other by certificate; SASL/PLAIN is for the clients
  printf 'KafkaServer {\n  org.apache.kafka.common.security.plain.PlainLoginModule required\n  user_ioc="%s";\n};\n' \
    "$(cat kafka_ioc_password)" >kafka_jaas.conf
  say "made kafka_jaas.conf (user ioc)"
fi
if [[ ! -f ioc_database_url ]]; then
  printf 'postgresql://ioc:%s@%s:5432/ioc?sslmode=verify-full&sslrootcert=/run/secrets/ca.crt\n' \
    "$(cat ioc_db_password)" "$DB_HOST" >ioc_database_url
  say "made ioc_database_url (TLS, verify-full)"
fi

# Read inside the containers: PostgreSQL (uid 70 in the image) insists on owning its key with mode
# 0600; the other files are readable by the container user only through the mount (Docker secrets
# are 0444 inside containers too).  The directory itself stays 0700.
chmod 0444 ./*.crt ./*.pem kafka_jaas.conf ioc_database_url ./*password ./*secret telegram_token ack_link_key
chmod 0400 ca.key ./kafka-?.key
chmod 0600 pg_server.key
if ((EUID == 0)); then chown 70:70 pg_server.key; else say "not root: run 'chown 70:70 $DIR/pg_server.key' before starting the database"; fi
chmod 0700 .
say "done: $DIR"

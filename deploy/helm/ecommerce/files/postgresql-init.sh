#!/bin/bash
# First start of PostgreSQL only (empty data volume): one role and one database per service.
# Names and passwords come from the container's environment (the Secret / the .env file).
set -euo pipefail
create_database() {
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set=role="$1" --set=credential="$2" --set=db="$3" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'credential';
CREATE DATABASE :"db" OWNER :"role";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
SQL
}
create_database "$USERS_DB_USER" "$USERS_DB_PASSWORD" "$USERS_DB_NAME"
create_database "$ORDERS_DB_USER" "$ORDERS_DB_PASSWORD" "$ORDERS_DB_NAME"
create_database "$INTEGRATION_DB_USER" "$INTEGRATION_DB_PASSWORD" "$INTEGRATION_DB_NAME"

// First start of MongoDB only (empty data volume): product_service's own user, limited to
// its database. Names and password come from the container's environment.
const name = process.env.MONGODB_APP_DATABASE;
db.getSiblingDB(name).createUser({
  user: process.env.MONGODB_APP_USERNAME,
  pwd: process.env.MONGODB_APP_PASSWORD,
  roles: [
    { role: "readWrite", db: name },
    { role: "dbAdmin", db: name },
  ],
});

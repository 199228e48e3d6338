/** What an operator without the MongoDB Database Tools reads: where to get them. */
export const MONGODB_TOOLS_INSTALL_HINT =
  'install the MongoDB Database Tools (mongodump, mongorestore) from https://www.mongodb.com/try/download/database-tools ' +
  '(Debian/Ubuntu: the mongodb-database-tools package from the repo.mongodb.org apt repository), or run this job from a `holdfast agent` on a host that has them';

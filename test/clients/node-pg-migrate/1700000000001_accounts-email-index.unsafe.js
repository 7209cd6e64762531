// What a developer writes first: a plain CREATE INDEX, inside the
// transaction node-pg-migrate wraps around every migration.
exports.up = (pgm) => {
  pgm.createIndex('accounts', 'email');
};

// The same migration as the guard's HINT asks: CONCURRENTLY, which cannot run
// in a transaction block, so the migration opts out of node-pg-migrate's.
exports.up = (pgm) => {
  pgm.noTransaction();
  pgm.createIndex('accounts', 'email', { concurrently: true });
};

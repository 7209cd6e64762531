// Harmless on its own (a nullable column without default: catalog only).
// It runs in the same batch as 0003, to show what the batch's transaction
// does to it when 0003 is refused.
exports.up = (pgm) => {
  pgm.addColumn('accounts', { note: { type: 'text' } });
};

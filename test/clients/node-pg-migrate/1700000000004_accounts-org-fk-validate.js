// VALIDATE scans under SHARE UPDATE EXCLUSIVE: reads and writes go on.
exports.up = (pgm) => {
  pgm.sql('ALTER TABLE accounts VALIDATE CONSTRAINT accounts_org_id_fkey');
};

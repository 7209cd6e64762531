// A validated foreign key: scans all of "accounts" under SHARE ROW EXCLUSIVE.
exports.up = (pgm) => {
  pgm.addConstraint('accounts', 'accounts_org_id_fkey', {
    foreignKeys: { columns: 'org_id', references: 'orgs(id)' },
  });
};

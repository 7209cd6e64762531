// NOT VALID first (no scan); 0004 validates it. node-pg-migrate 8 has no
// option for NOT VALID in addConstraint, hence raw SQL.
exports.up = (pgm) => {
  pgm.sql('ALTER TABLE accounts ADD CONSTRAINT accounts_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID');
};

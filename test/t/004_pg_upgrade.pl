# pg_upgrade of a guarded cluster: in binary-upgrade mode the guard stands
# aside (the schema is recreated, not changed), and the audit rows survive.
use strict;
use warnings;
use File::Path qw(rmtree);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $old = PostgreSQL::Test::Cluster->new('old');
$old->init;
$old->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'migration_guard'
migration_guard.max_lock_hold = 0
migration_guard.large_table_threshold = 0
});
$old->start;
$old->safe_psql('postgres', q{
SET migration_guard.mode = off;
CREATE EXTENSION migration_guard;
CREATE TABLE accounts (id int PRIMARY KEY, email text, org_id int);
INSERT INTO accounts SELECT g, 'u' || g, g % 10 FROM generate_series(1, 5000) g;
CREATE INDEX accounts_email_idx ON accounts (email);
ALTER TABLE accounts ADD CONSTRAINT accounts_org_positive CHECK (org_id >= 0);
});
my ($ret, $out, $err) = $old->psql('postgres', 'CREATE INDEX ON accounts (org_id)');
like($err, qr/CREATE INDEX would block writes/, 'the old cluster is guarded');
$old->stop;

my $new = PostgreSQL::Test::Cluster->new('new');
$new->init;
$new->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'migration_guard'
migration_guard.max_lock_hold = 0
migration_guard.large_table_threshold = 0
});

my $bindir = $new->config_data('--bindir');
my $workdir = PostgreSQL::Test::Utils::tempdir();
chdir $workdir;
command_ok(
	[
		'pg_upgrade', '--no-sync',
		'-b', $bindir, '-B', $bindir,
		'-d', $old->data_dir, '-D', $new->data_dir,
		'-s', $new->host, '-p', $old->port, '-P', $new->port
	],
	'pg_upgrade succeeds with the guard preloaded on both sides');

$new->start;
is($new->safe_psql('postgres', 'SELECT count(*) FROM accounts'), '5000', 'data upgraded');
is($new->safe_psql('postgres',
		"SELECT count(*) FROM migration_guard.audit_log WHERE statement = 'CREATE INDEX ON accounts (org_id)' AND verdict = 'blocked'"),
	'1', 'the audit row of the refusal survived the upgrade');
($ret, $out, $err) = $new->psql('postgres', 'CREATE INDEX ON accounts (org_id)');
like($err, qr/CREATE INDEX would block writes/, 'the new cluster is guarded');
$new->stop;
done_testing();

# Peaceful co-existence with pg_stat_statements and pgaudit in
# shared_preload_libraries, in both orders: every hook runs, once.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

for my $libs ('pg_stat_statements,pgaudit,migration_guard',
	'migration_guard,pgaudit,pg_stat_statements')
{
	my $node = PostgreSQL::Test::Cluster->new('coexist');
	$node->init;
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = '$libs'
migration_guard.max_lock_hold = 0
pgaudit.log = 'ddl'
pg_stat_statements.track_utility = on
migration_guard.large_table_threshold = 0
});
	$node->start;
	$node->safe_psql('postgres', q{
SET migration_guard.mode = off;
CREATE EXTENSION pg_stat_statements;
CREATE EXTENSION migration_guard;
CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g;
});
	# the application reads it: a table no session has used yet is let through
	$node->safe_psql('postgres', 'SELECT count(*) FROM t');

	my $log_offset = -s $node->logfile;
	my ($ret, $out, $err) = $node->psql('postgres', 'CREATE INDEX t_refused ON t (id)');
	like($err, qr/CREATE INDEX would block writes to table "t"/, "$libs: DDL is judged");
	($ret, $out, $err) = $node->psql('postgres', 'ALTER TABLE t ADD COLUMN c int');
	is($ret, 0, "$libs: safe DDL runs");
	my $log = slurp_file($node->logfile, $log_offset);
	like($log, qr/AUDIT: SESSION,\d+,\d+,DDL,ALTER TABLE,,,ALTER TABLE t ADD COLUMN c int/,
		"$libs: pgaudit still logs the DDL");
	is(scalar(() = $log =~ /AUDIT: SESSION,\d+,\d+,DDL,ALTER TABLE,,,ALTER TABLE t ADD COLUMN c int/g), 1,
		"$libs: once");
	is($node->safe_psql('postgres',
			"SELECT calls FROM pg_stat_statements WHERE query = 'ALTER TABLE t ADD COLUMN c int'"),
		'1', "$libs: pg_stat_statements counts it once");
	is($node->safe_psql('postgres',
			"SELECT verdict FROM migration_guard.audit_log WHERE statement = 'ALTER TABLE t ADD COLUMN c int'"),
		'ok', "$libs: and the audit has it");
	$node->stop;
	$node->clean_node;
}
done_testing();

# The audit log under load and when things go wrong:
#  - 8 sessions issuing DDL at once, refused and not, lose no row and
#    deadlock nowhere;
#  - with no background worker slot free, a refusal goes to the server log
#    and the client is told;
#  - pg_dump keeps the rows;
#  - a database without the extension is guarded and nothing is written.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

my $node = PostgreSQL::Test::Cluster->new('audit');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'migration_guard'
migration_guard.max_lock_hold = 0
max_worker_processes = 16
migration_guard.large_table_threshold = 0
});
$node->start;

my $clients = 8;
my $per_client = 40;
$node->safe_psql('postgres', q{
SET migration_guard.mode = off;
CREATE EXTENSION migration_guard;
CREATE TABLE big AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 1000) g;
CREATE INDEX big_id_idx ON big (id);
});
# the application reads it: a table no session has used yet is let through
$node->safe_psql('postgres', 'SELECT count(*) FROM big');
$node->safe_psql('postgres', "SET migration_guard.mode = off; CREATE TABLE t_$_ (id int)")
  for 0 .. $clients - 1;

# Each transaction: one ok, one warned, one refused (caught in a DO block)
my $script = PostgreSQL::Test::Utils::tempdir() . '/ddl.sql';
open my $fh, '>', $script or die;
print $fh q{ALTER TABLE t_:client_id ADD COLUMN c int;
ALTER TABLE t_:client_id DROP COLUMN c;
DO $$ BEGIN CREATE INDEX ON big (v); EXCEPTION WHEN SQLSTATE 'MG001' THEN NULL; END $$;
};
close $fh;

my $log_offset = -s $node->logfile;
$node->command_ok(
	[ 'pgbench', '-n', '-c', $clients, '-j', 2, '-t', $per_client, '-f', $script, 'postgres' ],
	"$clients sessions issue DDL concurrently");

my $expected = $clients * $per_client;
is($node->safe_psql('postgres',
		"SELECT count(*) FILTER (WHERE verdict = 'ok') || ' ' ||
		        count(*) FILTER (WHERE verdict = 'warned') || ' ' ||
		        count(*) FILTER (WHERE verdict = 'blocked')
		   FROM migration_guard.audit_log"),
	"$expected $expected $expected", 'no audit row lost: ok, warned and blocked rows all there');
is($node->safe_psql('postgres',
		"SELECT count(DISTINCT backend_pid) FROM migration_guard.audit_log WHERE verdict = 'blocked'"),
	$clients, 'refusals of every session recorded');
my $log = slurp_file($node->logfile, $log_offset);
unlike($log, qr/deadlock detected/, 'no deadlock');
unlike($log, qr/migration_guard audit:/, 'no refusal fell back to the server log');

# pg_dump keeps the rows
my $dump = $node->safe_psql('postgres', 'SELECT 1') && `pg_dump -h @{[$node->host]} -p @{[$node->port]} -d postgres 2>&1`;
like($dump, qr/COPY migration_guard\.audit_log .*\n(.*\n)*.*CREATE INDEX ON big \(v\)/,
	'pg_dump contains the audit rows');

# No free worker slot: the row goes to the server log, the client is told
$node->append_conf('postgresql.conf', "max_worker_processes = 1\n");
$node->restart;
$log_offset = -s $node->logfile;
my ($ret, $out, $err) = $node->psql('postgres', 'BEGIN; CREATE INDEX ON big (id); ROLLBACK;');
like($err, qr/ERROR:  CREATE INDEX would block writes to table "big"/, 'still refused');
like($err, qr/WARNING:  could not record the refusal in migration_guard.audit_log/, 'client told the row is not in the table');
$log = slurp_file($node->logfile, $log_offset);
like($log, qr/migration_guard audit: .*statement='CREATE INDEX ON big \(id\)'.*verdict='blocked'/,
	'the refusal is in the server log with its fields');
# every field is quoted: a role's name cannot forge another field
$node->safe_psql('postgres', q{
CREATE ROLE "x verdict='ok' relation_name=nothing" SUPERUSER LOGIN;
});
$log_offset = -s $node->logfile;
$node->psql('postgres', q{SET ROLE "x verdict='ok' relation_name=nothing"; CREATE INDEX ON big (id);});
($log) = grep { /migration_guard audit:/ } split /\n/, slurp_file($node->logfile, $log_offset);
like($log, qr/role_name='x verdict=''ok'' relation_name=nothing' /,
	'a role name with field syntax stays inside its quoted field');
unlike($log, qr/ verdict='ok'/, 'and forges no verdict');
like($log, qr/ verdict='blocked'/, 'the line keeps its real verdict');

# A database without the extension: guarded; a refusal goes to the server
# log, and the client is told why; statements that pass run as usual
$node->safe_psql('postgres', 'CREATE DATABASE plain');
$node->safe_psql('plain', 'CREATE TABLE t AS SELECT 1 AS id');
$node->safe_psql('plain', 'SELECT count(*) FROM t');
$log_offset = -s $node->logfile;
($ret, $out, $err) = $node->psql('plain', 'CREATE INDEX ON t (id)');
like($err, qr/ERROR:  CREATE INDEX would block writes to table "t"/, 'guarded without the extension');
like($err, qr/DETAIL:  The migration_guard extension is not created in this database/,
	'the client is told why the refusal is not in an audit table');
like(slurp_file($node->logfile, $log_offset), qr/migration_guard audit: .*statement='CREATE INDEX ON t \(id\)'/,
	'the refusal is in the server log');
($ret, $out, $err) = $node->psql('plain', 'ALTER TABLE t ADD COLUMN x int');
is($ret, 0, 'statements that pass run without the audit table');

# pg_restore into a guarded server: the CREATE INDEX on the tables it has
# just filled is let through, nobody having used them yet (it failed
# before); with the guard off for the restoring session, as before
my $archive = PostgreSQL::Test::Utils::tempdir() . '/db.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $archive, 'postgres' ], 'pg_dump -Fc');
$node->safe_psql('postgres', 'CREATE DATABASE restored_plain');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', 'restored_plain', $archive ],
	'pg_restore with the guard on succeeds');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
{
	local $ENV{PGOPTIONS} = '-c migration_guard.mode=off';
	$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', 'restored', $archive ],
		'pg_restore with PGOPTIONS=-c migration_guard.mode=off');
}
is($node->safe_psql('restored',
		"SELECT count(*) > 0 FROM migration_guard.audit_log WHERE statement = 'CREATE INDEX ON big (v)'"),
	't', 'the restored database has the audit rows');

# A hot standby: DDL is PostgreSQL's to refuse; check() still answers
$node->append_conf('postgresql.conf', "max_worker_processes = 16\n");
$node->restart;
$node->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'b', has_streaming => 1);
$standby->start;
($ret, $out, $err) = $standby->psql('postgres', 'CREATE INDEX ON big (v)');
like($err, qr/cannot execute CREATE INDEX in a read-only transaction/, 'standby: PostgreSQL refuses DDL');
is($standby->safe_psql('postgres',
		"SELECT rule || ' ' || verdict FROM migration_guard.check('CREATE INDEX ON big (v)')"),
	'create_index block', 'standby: check() works read-only');
$standby->stop;

# A statement that commits on its own has its row before it runs: a crash
# after CREATE INDEX CONCURRENTLY has committed its first phase (the INVALID
# index is in the catalog for good) leaves the row, without a duration.
# Before, the row was written only after the statement, and was lost.
$node->append_conf('postgresql.conf', "restart_after_crash = on\n");
$node->reload;
$node->safe_psql('postgres', 'CREATE TABLE cic AS SELECT generate_series(1, 1000) AS id');
my $writer = $node->background_psql('postgres');
$writer->query_safe('BEGIN; INSERT INTO cic VALUES (0);');	# the build waits for it
my $builder = $node->background_psql('postgres', wait => 1);
$builder->query_until(qr/^sent$/m, "\\echo sent\nCREATE INDEX CONCURRENTLY cic_id_idx ON cic (id);\n");
$node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock'})
  or die 'CREATE INDEX CONCURRENTLY never waited for the writer';
my $builder_pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%'");
is($node->safe_psql('postgres', q{
	SELECT verdict || ' ' || (held_ms IS NULL) FROM migration_guard.audit_log
	 WHERE statement LIKE 'CREATE INDEX CONCURRENTLY cic_id_idx%'}),
	'ok true', 'CONCURRENTLY: its row is committed before it runs');
kill 'KILL', $builder_pid;
eval { $builder->quit; };
eval { $writer->quit; };
$node->poll_query_until('postgres', 'SELECT true') or die 'no restart after the crash';
is($node->safe_psql('postgres', q{
	SELECT (SELECT NOT indisvalid FROM pg_index WHERE indexrelid = 'cic_id_idx'::regclass)
	       || ' ' || count(*) || ' ' || bool_and(held_ms IS NULL)
	  FROM migration_guard.audit_log
	 WHERE statement LIKE 'CREATE INDEX CONCURRENTLY cic_id_idx%'}),
	'true 1 true', 'after a crash: the INVALID index is there, and so is its row, without a duration');

# Once it has run, the same statement's row has its duration
$node->safe_psql('postgres', 'DROP INDEX cic_id_idx');
$node->safe_psql('postgres', 'CREATE INDEX CONCURRENTLY cic_id_idx ON cic (id)');
is($node->safe_psql('postgres', q{
	SELECT string_agg((held_ms IS NOT NULL)::text, ' ' ORDER BY id) FROM migration_guard.audit_log
	 WHERE statement = 'CREATE INDEX CONCURRENTLY cic_id_idx ON cic (id)'}),
	'false true', 'CONCURRENTLY that finished: its row has its duration');

# Waiting is not holding: an ALTER that queues behind a reader for about
# 1.5 s and then runs in a moment has lock_wait_ms of about 1,500 and
# held_ms of a few; its row said "duration_ms 1502" before.  The reader is
# young when the ALTER arrives (migration_guard.lock_holder_age is 10 s),
# so the guard waits for it rather than refusing.
$node->safe_psql('postgres', 'CREATE TABLE waited (id int)');
my $reader = $node->background_psql('postgres');
$reader->query_safe('BEGIN; SELECT count(*) FROM waited;');
my $alter = $node->background_psql('postgres', wait => 1);
$alter->query_until(qr/^sent$/m,
	"SET migration_guard.lock_holder_age = '10s';\n\\echo sent\nALTER TABLE waited ADD COLUMN c int;\n");
$node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE query LIKE 'ALTER TABLE waited%' AND wait_event_type = 'Lock'})
  or die 'the ALTER never waited for the reader';
sleep 1.5;
$reader->query_safe('COMMIT;');
$reader->quit;
$alter->quit;
my ($wait, $held) = split /\|/, $node->safe_psql('postgres', q{
	SELECT round(lock_wait_ms), round(held_ms) FROM migration_guard.audit_log
	 WHERE statement = 'ALTER TABLE waited ADD COLUMN c int'});
ok($wait >= 1400, "the wait behind the reader is lock_wait_ms ($wait ms)");
ok($held < $wait / 4, "held_ms is the run alone ($held ms)");
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM information_schema.columns
	 WHERE table_schema = 'migration_guard' AND table_name = 'audit'
	   AND column_name IN ('lock_wait_ms', 'held_ms')}),
	'2', 'the audit view shows both');

$node->stop;
done_testing();

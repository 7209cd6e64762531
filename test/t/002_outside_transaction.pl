# Engine agreement for statements that cannot run inside a transaction
# block (CONCURRENTLY, VACUUM FULL) or need a tablespace.
#
# sql/engine_agreement.sql runs each statement in a rolled-back
# subtransaction and reads pg_locks there; these statements commit on their
# own, so we observe them from outside instead:
#   lock     a second session holds the weakest lock that conflicts with
#            the predicted mode, so weaker requests pass and pg_locks shows
#            the first request at least as strong as the prediction
#   rewrite  the relfilenode before and after
#   scan     pg_stat_user_tables.seq_scan before and after (the statement's
#            backend flushes its counters when it exits)
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('outside_xact');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'migration_guard'\nmigration_guard.max_lock_hold = 0\n");
$node->start;

my $tsdir = PostgreSQL::Test::Utils::tempdir();
$node->safe_psql('postgres', "CREATE TABLESPACE mg_space LOCATION '$tsdir'");
$node->safe_psql('postgres', q{
CREATE EXTENSION migration_guard;
CREATE TABLE big (id int PRIMARY KEY, val text, name text);
INSERT INTO big SELECT g, md5(g::text), 'n' || g FROM generate_series(1, 30000) g;
CREATE INDEX big_name_idx ON big (name);
CREATE INDEX big_val_idx ON big (val);
CREATE TABLE parted (id int, v text) PARTITION BY RANGE (id);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (20000);
CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (20000) TO (40000);
INSERT INTO parted SELECT g, md5(g::text) FROM generate_series(0, 39999) g;
CREATE MATERIALIZED VIEW big_mv AS SELECT id, val FROM big;
CREATE UNIQUE INDEX big_mv_id ON big_mv (id);
ANALYZE;
});

sub scalar_sql { return $node->safe_psql('postgres', $_[0]); }

# The weakest LOCK TABLE mode that conflicts with each mode
my %blocker_mode = (
	AccessExclusiveLock => 'ACCESS SHARE',
	ExclusiveLock => 'ROW SHARE',
	ShareRowExclusiveLock => 'ROW EXCLUSIVE',
	ShareLock => 'ROW EXCLUSIVE',
	ShareUpdateExclusiveLock => 'SHARE UPDATE EXCLUSIVE');

sub observe
{
	my ($stmt) = @_;
	my @pred = map { [ split /\|/ ] } split /\n/, scalar_sql(
		"SELECT relation::oid, relation, lock_mode, rewrite, scan,
		        (SELECT relkind FROM pg_class WHERE oid = relation)
		   FROM migration_guard.check(\$q\$$stmt\$q\$, 'statement')
		  WHERE relation IS NOT NULL ORDER BY statement");
	my %before;
	for my $p (@pred)
	{
		my $oid = $p->[0];
		$before{$oid} = [ split /\|/, scalar_sql(
			"SELECT pg_stat_clear_snapshot();
			 SELECT coalesce(pg_relation_filenode($oid)::text, ''),
			        coalesce((SELECT seq_scan FROM pg_stat_user_tables WHERE relid = $oid), 0)") ];
	}

	# Block the first relation so that the statement's lock request shows
	my $target = $pred[0][0];
	my $blocker = $node->background_psql('postgres');
	# LOCK TABLE refuses materialized views and indexes.  ANALYZE holds
	# SHARE UPDATE EXCLUSIVE, weaker than what a refresh takes; planning a
	# query on a table takes ACCESS SHARE on each of its indexes.
	my $block_sql =
	    $pred[0][5] eq 'm' ? "BEGIN; ANALYZE $pred[0][1];"
	  : $pred[0][5] eq 'i' ? "BEGIN; EXPLAIN SELECT * FROM "
	  . scalar_sql("SELECT indrelid::regclass FROM pg_index WHERE indexrelid = $target") . ";"
	  : "BEGIN; LOCK TABLE $pred[0][1] IN $blocker_mode{$pred[0][2]} MODE;";
	$blocker->query_safe($block_sql);
	my $runner = $node->background_psql('postgres', wait => 1);
	$runner->query_until(qr/^sent$/m, "SET migration_guard.mode = off;\n\\echo sent\n$stmt;\n");
	$node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM pg_locks WHERE relation = $target AND NOT granted")
	  or die "statement never waited on $pred[0][1]: $stmt";
	my $waited = scalar_sql(
		"SELECT string_agg(mode, ',') FROM pg_locks WHERE relation = $target AND NOT granted");
	$blocker->query_safe("COMMIT;");
	$blocker->quit;
	$runner->quit;
	# A backend flushes its statistics on its way out, a moment after psql
	# has gone: wait until it has left pg_stat_activity (which it does after
	# the flush) before reading seq_scan.
	$node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity
		  WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")
	  or die "the statement's backend did not exit";

	my $first = 1;
	for my $p (@pred)
	{
		my ($oid, $rel, $lock, $rewrite, $scan, $relkind) = @$p;
		my ($node_after, $scans_after) = split /\|/, scalar_sql(
			"SELECT pg_stat_clear_snapshot();
			 SELECT coalesce(pg_relation_filenode($oid)::text, ''),
			        coalesce((SELECT seq_scan FROM pg_stat_user_tables WHERE relid = $oid), 0)");
		my $rewritten = ($node_after ne '' && $node_after ne $before{$oid}[0]) ? 't' : 'f';
		my $scanned = ($scans_after > $before{$oid}[1]) ? 't' : 'f';
		is($waited, $lock, "$stmt: waits for $lock on $rel") if $first;
		is($rewritten, $rewrite, "$stmt: rewrite of $rel is $rewrite");
		is($scanned, $scan, "$stmt: scan of $rel is $scan");
		$first = 0;
	}
}

observe('VACUUM FULL big');
observe('CREATE INDEX CONCURRENTLY big_id_val_idx ON big (id, val)');
observe('DROP INDEX CONCURRENTLY big_id_val_idx');
observe('REINDEX INDEX CONCURRENTLY big_name_idx');
observe('REINDEX TABLE CONCURRENTLY big');
observe('ALTER TABLE parted DETACH PARTITION parted_2 CONCURRENTLY');

# DETACH ... CONCURRENTLY takes ACCESS EXCLUSIVE on the partition in its
# second transaction.  A session that read the partition directly (no lock
# on the parent) lets the first transaction through and holds up the second.
# With the guard on: no lock_queue refusal and no guard lock_timeout (it
# would leave the detach half done), the statement waits as it chose to.
{
	my $stmt = 'ALTER TABLE parted DETACH PARTITION parted_1 CONCURRENTLY';
	my $pred = scalar_sql("SELECT lock_mode FROM migration_guard.check('$stmt', 'statement')
	                        WHERE relation = 'parted_1'::regclass");
	my $blocker = $node->background_psql('postgres');
	$blocker->query_safe("BEGIN; SELECT count(*) FROM parted_1;");
	sleep 2;				# older than migration_guard.lock_holder_age
	my $runner = $node->background_psql('postgres', wait => 1);
	$runner->query_until(qr/^sent$/m, "\\echo sent\n$stmt;\n");
	$node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM pg_locks WHERE relation = 'parted_1'::regclass AND NOT granted")
	  or die "DETACH never waited on parted_1";
	is(scalar_sql("SELECT string_agg(mode, ',') FROM pg_locks
	                WHERE relation = 'parted_1'::regclass AND NOT granted"),
		$pred, "$stmt: its second transaction waits for $pred on the partition");
	sleep 3;				# past migration_guard.lock_timeout
	is(scalar_sql("SELECT count(*) FROM pg_locks WHERE relation = 'parted_1'::regclass AND NOT granted"),
		'1', "$stmt: still waiting after the guard's lock_timeout");
	$blocker->query_safe("COMMIT;");
	$blocker->quit;
	$runner->quit;
	is(scalar_sql("SELECT relispartition FROM pg_class WHERE oid = 'parted_1'::regclass"),
		'f', "$stmt: done once the reader committed");
}
observe('REFRESH MATERIALIZED VIEW CONCURRENTLY big_mv');
observe('ALTER TABLE big SET TABLESPACE mg_space');
observe('ALTER INDEX big_val_idx SET TABLESPACE mg_space');

# The hook refuses them as check() says, on a large table
$node->safe_psql('postgres', "ALTER SYSTEM SET migration_guard.large_table_threshold = '1MB'; SELECT pg_reload_conf();");
my ($ret, $out, $err) = $node->psql('postgres', 'VACUUM FULL big');
like($err, qr/VACUUM FULL would rewrite table "big"/, 'VACUUM FULL refused');
is(scalar_sql("SELECT verdict FROM migration_guard.check('VACUUM FULL big', 'statement')"), 'block',
	'check() agrees on VACUUM FULL');
($ret, $out, $err) = $node->psql('postgres', 'ALTER TABLE big SET TABLESPACE pg_default');
like($err, qr/SET TABLESPACE would rewrite table "big"/, 'SET TABLESPACE refused');
($ret, $out, $err) = $node->psql('postgres', 'CREATE INDEX CONCURRENTLY big_c ON big (name)');
is($ret, 0, 'CREATE INDEX CONCURRENTLY runs');

$node->stop;
done_testing();

# migration_guard.backfill() with an application writing throughout: each
# batch is a transaction of its own, so the writer's updates go on between
# batches (they commit while the backfill runs) and none is lost; a cancel
# stops the backfill cleanly (the run is 'stopped', the batches done stay
# done) and the next CALL resumes after the last key, each row updated
# once; the same backfill is not run twice at the same time.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('backfill');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'migration_guard'
migration_guard.max_lock_hold = 0
migration_guard.large_table_threshold = '1MB'
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION migration_guard;
CREATE TABLE project (id int PRIMARY KEY, owner int NOT NULL, org int, w int NOT NULL DEFAULT 0,
                      n int NOT NULL DEFAULT 0);
INSERT INTO project (id, owner) SELECT g, g % 1000 FROM generate_series(1, 200000) g;
CREATE TABLE writes (at timestamptz NOT NULL DEFAULT clock_timestamp());
ANALYZE;
});

# the application: single-row updates, each committed and recorded, until
# the backfill is over
my ($wout, $werr) = ('', '');
my $writer = IPC::Run::start(
	[ 'psql', '-X', '-q', '-h', $node->host, '-p', $node->port, '-d', 'postgres', '-c', q{
DO $$
BEGIN
  FOR i IN 1..1000000 LOOP
    UPDATE project SET w = w + 1 WHERE id = 1 + (i * 7919) % 200000;
    INSERT INTO writes DEFAULT VALUES;
    COMMIT;
    EXIT WHEN to_regclass('stop_writer') IS NOT NULL;
    PERFORM pg_sleep(0.001);
  END LOOP;
END $$;} ], '>', \$wout, '2>', \$werr);
$node->poll_query_until('postgres', 'SELECT count(*) > 100 FROM writes')
  or die 'the writer did not start';
my ($rc, $out, $err) = $node->psql('postgres', q{
CALL migration_guard.backfill('project', 'org = owner / 10, n = n + 1', 'org IS NULL',
                              batch_time => '20 ms', first_batch => 2000)});
$node->safe_psql('postgres', 'CREATE TABLE stop_writer ()');
$writer->finish;
is($rc, 0, 'the backfill ends') or diag($err);
like($err, qr/NOTICE:  backfill of project: \d+ rows updated, \d+ of ~200000 walked \(\d+\.\d%\), \d+ rows\/s, \S+ left/,
	'progress NOTICEs: rows, the estimated total, the rate, the time left');
is($werr, '', 'the writer ran without an error');
is($node->safe_psql('postgres', q{
SELECT count(*) FILTER (WHERE org = owner / 10) || ' ' || min(n) || ' ' || max(n) || ' ' ||
       (sum(w) = (SELECT count(*) FROM writes))
  FROM project}),
	'200000 1 1 true', 'every row backfilled once, and none of the writer\'s updates lost');
my $during = $node->safe_psql('postgres', q{
SELECT count(*) FROM writes w, migration_guard.backfill_runs r
 WHERE w.at BETWEEN r.started_at AND r.finished_at});
cmp_ok($during, '>', 0, "the writer committed while the backfill ran ($during updates)");
is($node->safe_psql('postgres', q{
SELECT status || ' ' || (batches > 1) || ' ' || rows_updated FROM migration_guard.backfill_runs}),
	'done true 200000', 'the run: done, in many transactions, every row');

# cancel: the run stops cleanly and resumes
$node->safe_psql('postgres', 'UPDATE project SET org = NULL, n = 0');
my ($bout, $berr) = ('', '');
my $backfill = IPC::Run::start(
	[ 'psql', '-X', '-h', $node->host, '-p', $node->port, '-d', 'postgres', '-c', q{
CALL migration_guard.backfill('project', 'org = owner / 10, n = n + 1', 'org IS NULL',
                              batch_time => NULL, first_batch => 1000, pause => '50 ms')} ],
	'>', \$bout, '2>', \$berr);
$node->poll_query_until('postgres', q{
SELECT rows_updated >= 3000 FROM migration_guard.backfill_runs WHERE status = 'running'})
  or die 'the backfill did not start';
($rc, $out, $err) = $node->psql('postgres', q{
CALL migration_guard.backfill('project', 'org = owner / 10, n = n + 1', 'org IS NULL')});
like($err, qr/ERROR:  this backfill of project is running in another session/,
	'the same backfill is not run twice at once');
$node->safe_psql('postgres', q{
SELECT pg_cancel_backend(backend_pid) FROM migration_guard.backfill_runs WHERE status = 'running'});
$backfill->finish;
like($berr, qr/ERROR:  canceling statement due to user request/, 'the cancel ends the CALL');
like($berr, qr/HINT:  CALL it again to resume where it stopped\./, 'and says how to resume');
my ($stopped_at, $done) = split /\|/, $node->safe_psql('postgres', q{
SELECT last_key[1], rows_updated FROM migration_guard.backfill_runs WHERE status = 'stopped'});
ok(defined $done && $done > 0 && $done < 200000, "the run is 'stopped' after $done rows");
is($node->safe_psql('postgres', 'SELECT count(*) FROM project WHERE org IS NOT NULL'), $done,
	'the batches done before the cancel stay done');
($rc, $out, $err) = $node->psql('postgres', q{
CALL migration_guard.backfill('project', 'org = owner / 10, n = n + 1', 'org IS NULL',
                              batch_time => NULL, first_batch => 1000)});
like($err, qr/NOTICE:  backfill of project resumes after key \{$stopped_at\}/, 'the next CALL resumes after the last key');
is($node->safe_psql('postgres', q{
SELECT count(*) FILTER (WHERE org = owner / 10) || ' ' || min(n) || ' ' || max(n) FROM project}),
	'200000 1 1', 'resumed: every row once');

$node->stop;
done_testing();

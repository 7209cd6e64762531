# A three-level blocking chain, as migration_guard.locks and lock_tree()
# show it: s1 reads the table in an open transaction, s2's ALTER TABLE
# waits for s1 (it set its own lock_timeout, so the guard lets it queue),
# and s3's SELECT waits behind s2.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('lock_tree');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'migration_guard'\nmigration_guard.max_lock_hold = 0\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION migration_guard; CREATE TABLE chain (id int)');

my $s1 = $node->background_psql('postgres');
my $s2 = $node->background_psql('postgres');
my $s3 = $node->background_psql('postgres');
my $pid1 = $s1->query_safe('SELECT pg_backend_pid()');
my $pid2 = $s2->query_safe('SELECT pg_backend_pid()');
my $pid3 = $s3->query_safe('SELECT pg_backend_pid()');
$s1->query_safe('BEGIN; SELECT count(*) FROM chain;');
$s2->query_until(qr/^sent$/m, "SET lock_timeout = '60s';\n\\echo sent\nALTER TABLE chain ADD COLUMN x int;\n");
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_locks WHERE pid = $pid2 AND NOT granted") or die;
$s3->query_until(qr/^sent$/m, "\\echo sent\nSELECT count(*) FROM chain;\n");
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_locks WHERE pid = $pid3 AND NOT granted") or die;

my @tree = split /\n/, $node->safe_psql('postgres', 'SELECT * FROM migration_guard.lock_tree()');
is(scalar(@tree), 3, 'lock_tree: three lines');
like($tree[0], qr/^pid $pid1 \(\w+( \/ [^,]+)?, idle in transaction, transaction \d\d:\d\d:\d\d\)/, 'root: the open transaction');
like($tree[1], qr/^    └─ waits for AccessExclusiveLock on chain: pid $pid2 .*ALTER TABLE chain/, 'under it: the ALTER');
like($tree[2], qr/^        └─ waits for AccessShareLock on chain: pid $pid3 .*SELECT count/, 'under that: the reader');

is($node->safe_psql('postgres',
		"SELECT string_agg(pid || ':' || mode || ':' || granted || ':' || blocked_by::text, ' ' ORDER BY pid)
		   FROM migration_guard.locks WHERE relation = 'chain'::regclass"),
	join(' ', sort { (split /:/, $a)[0] <=> (split /:/, $b)[0] }
		"$pid1:AccessShareLock:true:{}",
		"$pid2:AccessExclusiveLock:false:{$pid1}",
		"$pid3:AccessShareLock:false:{$pid2}"),
	'locks: holders, waiters and who blocks them');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM migration_guard.locks WHERE relation = 'chain'::regclass AND NOT granted AND wait_time IS NOT NULL"),
	'2', 'locks: wait time for the two waiters');

$s1->query_safe('COMMIT;');
$s2->quit;
$s3->quit;
$s1->quit;
is($node->safe_psql('postgres', 'SELECT count(*) FROM migration_guard.lock_tree()'), '0',
	'lock_tree: empty once the chain is gone');
$node->stop;
done_testing();

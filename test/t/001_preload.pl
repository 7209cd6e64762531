# CREATE EXTENSION in a server that did not preload the library warns the
# DBA and says what to add to postgresql.conf; once preloaded, it is silent
# and every session is guarded.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('preload');
$node->init;
$node->start;

my ($ret, $out, $err) = $node->psql('postgres', 'CREATE EXTENSION migration_guard');
is($ret, 0, 'CREATE EXTENSION succeeds without preload');
like($err, qr/WARNING:  migration_guard is not loaded via shared_preload_libraries/,
	'warns that the library is not preloaded');
like($err, qr/shared_preload_libraries = 'migration_guard'/, 'says what to add');

# Another session is not guarded
$node->safe_psql('postgres', q{
CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g;
ANALYZE t;
});
($ret, $out, $err) = $node->psql('postgres',
	"SET migration_guard.large_table_threshold = 0; CREATE INDEX ON t (v)");
is($ret, 0, 'without preload, a new session is not guarded');

$node->append_conf('postgresql.conf', "shared_preload_libraries = 'migration_guard'\nmigration_guard.max_lock_hold = 0\n");
$node->restart;
($ret, $out, $err) = $node->psql('postgres', 'DROP EXTENSION migration_guard; CREATE EXTENSION migration_guard');
is($ret, 0, 'CREATE EXTENSION succeeds with preload');
unlike($err, qr/WARNING/, 'no warning once preloaded');
($ret, $out, $err) = $node->psql('postgres',
	"SET migration_guard.large_table_threshold = 0; CREATE INDEX ON t (v)");
isnt($ret, 0, 'preloaded: CREATE INDEX on a large table is refused');
like($err, qr/ERROR:  CREATE INDEX would block writes to table "t"/, 'with the guard\'s message');

# The guard works in a database where the extension is not created
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', 'CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g');
# the application reads it: a table no session has used yet is let through
$node->safe_psql('other', 'SELECT count(*) FROM t');
($ret, $out, $err) = $node->psql('other',
	"SET migration_guard.large_table_threshold = 0; CREATE INDEX ON t (v)");
like($err, qr/CREATE INDEX would block writes/, 'guarded without CREATE EXTENSION');

$node->stop;
done_testing();

# ALTER EXTENSION ... UPDATE runs the extension's update script, which
# changes objects that exist and hold data: each statement of it is judged
# like any other (names schema-qualified: the DBA who reads the message
# does not have the script's search_path), while
# CREATE EXTENSION's script (new objects) is not.
# Uses test/extension/mg_update_test, which test/run_suites.sh installs.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('ext_update');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'migration_guard'\nmigration_guard.max_lock_hold = 0\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION migration_guard');

my $set = "SET migration_guard.large_table_threshold = '1MB';";
my ($ret, $out, $err) = $node->psql('postgres',
	"$set CREATE EXTENSION mg_update_test VERSION '1.0'");
is($ret, 0, 'CREATE EXTENSION with a 2 MB table in its script runs');
is($node->safe_psql('postgres', 'SELECT count(*) FROM mg_update_test.readings'),
	'30000', 'and its table has its rows');

($ret, $out, $err) = $node->psql('postgres',
	"$set ALTER EXTENSION mg_update_test UPDATE TO '1.1'");
isnt($ret, 0, 'an update script that rewrites a large table is refused');
like($err, qr/ERROR:  adding column "token" would rewrite table "mg_update_test.readings"/,
	'with the message for the script\'s statement, the table schema-qualified');
like($err, qr/HINT: .*ALTER TABLE mg_update_test\.readings ADD COLUMN token/s,
	'and the safe SQL runs under the DBA\'s search_path');
is($node->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'mg_update_test'"),
	'1.0', 'the extension is still at 1.0');
is($node->safe_psql('postgres', q{
	SELECT verdict || ' ' || command || ' ' || relation_name FROM migration_guard.audit
	 WHERE relation_name LIKE '%readings%'}),
	'blocked ALTER TABLE mg_update_test.readings', 'the refusal is audited');

($ret, $out, $err) = $node->psql('postgres',
	"$set SET migration_guard.allow = 'add_column_rewrite'; ALTER EXTENSION mg_update_test UPDATE TO '1.1'");
is($ret, 0, 'with the override the update runs');
is($node->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'mg_update_test'"),
	'1.1', 'and the extension is at 1.1');
is($node->safe_psql('postgres', q{
	SELECT string_agg(verdict::text, ',' ORDER BY id) FROM migration_guard.audit
	 WHERE relation_name LIKE '%readings%'}),
	'blocked,overridden', 'the override is audited too');

$node->stop;
done_testing();

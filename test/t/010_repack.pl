# pg_repack, the online rebuild the rewrite_table HINT recommends, on a
# guarded server with default settings but the threshold: it rebuilds a
# table (and an index) that an application uses, with 0 errors, the
# indexes it builds on its shadow table, which no session has used,
# audited as unused_table.  Before, it failed: "CREATE INDEX would block
# writes to table repack.table_NNN".  Skipped where pg_repack is not
# installed for this major (Debian's postgresql-NN-repack).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('repack');
my $bindir = $node->config_data('--bindir');
my $sharedir = $node->config_data('--sharedir');
plan skip_all => "pg_repack is not installed for $bindir"
  unless -x "$bindir/pg_repack" && -f "$sharedir/extension/pg_repack.control";

$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'migration_guard'
migration_guard.max_lock_hold = 0
migration_guard.large_table_threshold = '1MB'
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION migration_guard;
CREATE EXTENSION pg_repack;
CREATE TABLE accounts (id int PRIMARY KEY, email text);
CREATE INDEX accounts_email_idx ON accounts (email);
INSERT INTO accounts SELECT g, md5(g::text) FROM generate_series(1, 100000) g;
});
# the application uses it: a plain CREATE INDEX on it is refused
$node->safe_psql('postgres', 'SELECT count(*) FROM accounts');
my ($ret, $out, $err) = $node->psql('postgres', 'CREATE INDEX ON accounts (email)');
like($err, qr/CREATE INDEX would block writes to table "accounts"/, 'accounts is guarded');

for my $what ([ '--table=accounts', 'table' ], [ '--index=accounts_email_idx', 'index' ])
{
	my ($stdout, $stderr) = ('', '');
	my $ok = IPC::Run::run([ "$bindir/pg_repack", '-d', 'postgres', $what->[0] ],
		'>', \$stdout, '2>', \$stderr,
		init => sub { $ENV{PGHOST} = $node->host; $ENV{PGPORT} = $node->port; });
	ok($ok, "pg_repack of the $what->[1] exits 0");
	unlike($stderr, qr/ERROR/, "pg_repack of the $what->[1]: no error") or diag($stderr);
	# it drops its log table (empty: nothing to say) and its copy of the
	# table, which holds the old rows once the two are swapped: that drop
	# warns (drop_table) when a session has used the copy, as pg_repack 1.5
	# does when it locks it from its second connection, and as applying
	# concurrent changes to it does; nothing else may
	my @other = grep { /^WARNING/ && !/^WARNING:  dropping table "repack\.table_\d+"/ }
	  split /\n/, $stderr;
	is(scalar(@other), 0, "pg_repack of the $what->[1]: no other warning") or diag($stderr);
}
is($node->safe_psql('postgres', q{
SELECT count(*) || ' ' || (SELECT count(*) FROM pg_index WHERE indrelid = 'accounts'::regclass AND indisvalid)
  FROM accounts}),
	'100000 2', 'the rows and both indexes are there');
is($node->safe_psql('postgres', q{
SELECT count(*) > 0 AND bool_and(relation_name LIKE 'repack.table_%')
  FROM migration_guard.audit_log WHERE verdict = 'unused_table'}),
	't', "the indexes built on pg_repack's shadow table are audited as unused_table");
is($node->safe_psql('postgres', q{
SELECT count(*) FROM migration_guard.audit_log WHERE verdict = 'blocked'}),
	'1', 'nothing of pg_repack was refused (the one refusal is the CREATE INDEX above)');

$node->stop;
done_testing();

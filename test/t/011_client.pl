# The command-line client, `migration_guard check`, on the migration
# directories of six tools (test/client/: prisma, flyway, diesel, goose,
# dbmate and plain SQL as Django's sqlmigrate prints it), against a
# database with large tables the application uses (test/client/fixture.sql).
#
# The client is only useful if it checks a migration the way its tool will
# run it: the files in the tool's order (Flyway's V2 before V10), in the
# tool's transactions (a Prisma file of one statement, a Flyway script with
# CONCURRENTLY or executeInTransaction=false, diesel's run_in_transaction =
# false, goose's NO TRANSACTION and dbmate's transaction:false run without
# one), only the Up section of goose and dbmate files, all of one run as one
# script (a table an earlier file creates is known to a later one, and new
# only within the transaction that created it), and only what the tool's
# history table does not record as applied with --pending.  Each finding
# must point at the file, line and column the user wrote.  Asserted: the
# exit status, every finding's file:line:col, severity and rule (text), the
# JSON output parsed (keys, types, values), the GitHub workflow commands
# with their escaping, --pending per tool, --fail-on=warn, --transaction,
# a syntax error (at the end of a file too), a connection failure and a
# database without the extension; a mistyped option is an error; files
# given one by one keep their tool's name, version and transaction;
# statements counted as PostgreSQL reads them; symbolic links and FIFOs in
# a migration directory are errors; a byte order mark, UTF-8 whatever
# PGCLIENTENCODING says; control characters escaped, workflow commands
# stopped under GITHUB_ACTIONS, JSON valid UTF-8; stdout that cannot be
# written; Flyway's baseline.  Skipped when the client is not installed in
# the bindir of the major under test.
use strict;
use warnings;
use B;
use File::Basename qw(dirname);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('client');
my $bindir = $node->config_data('--bindir');
my $prog = "$bindir/migration_guard";
plan skip_all => "the migration_guard client is not installed in $bindir"
  unless -x $prog;

# the fixtures, as a path relative to the test's directory (TESTDIR): the
# client prints the paths it was given, so the expected ones are built on it
my $fix = dirname(__FILE__) . '/../client';
die "no fixtures at $fix" unless -f "$fix/fixture.sql";

$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'migration_guard'
migration_guard.max_lock_hold = 0
migration_guard.large_table_threshold = '1MB'
# no worker's lock on the tables while they are checked (lock_queue)
autovacuum = off
});
$node->start;

# app: the production database, no migration applied yet.
# deployed: the same, where each tool has applied its first migrations
# (their effects and the tool's own history table: <tool>/history.sql).
# noext: a database without the extension.
$node->safe_psql('postgres', q{
CREATE DATABASE app;
CREATE DATABASE deployed;
CREATE DATABASE noext;
});
my $fixture = slurp_file("$fix/fixture.sql");
for my $db ('app', 'deployed')
{
	$node->safe_psql($db, 'CREATE EXTENSION migration_guard');
	$node->safe_psql($db, $fixture);
}
$node->safe_psql('deployed', slurp_file("$fix/$_/history.sql"))
  for qw(prisma flyway diesel goose dbmate);

# The fixture is what the test needs: large tables the application has used
my ($ret, $out, $err) = $node->psql('app', 'CREATE INDEX ON projects (name)');
like($err, qr/CREATE INDEX would block writes to table "projects"/,
	'fixture: projects is large and in use, so a plain CREATE INDEX is refused');

my @conn = ('-h', $node->host, '-p', $node->port);

# Runs `migration_guard check ARGS`; a hash first sets environment variables.
# Returns the exit status (128 + signal if killed), stdout and stderr.
sub mg
{
	my @args = @_;
	my %env = ref $args[0] eq 'HASH' ? %{ shift @args } : ();
	my ($stdout, $stderr) = ('', '');
	local @ENV{ keys %env } = values %env;
	IPC::Run::run([ $prog, 'check', @args ],
		'<', \'', '>', \$stdout, '2>', \$stderr,
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	my $rc = $? & 127 ? 128 + ($? & 127) : $? >> 8;
	return ($rc, $stdout, $stderr);
}

# "FILE:LINE:COL SEVERITY" of each finding of text output, in order
sub findings
{
	my ($text) = @_;
	my @f;
	for (split /\n/, $text)
	{
		push @f, "$1:$2:$3 $4"
		  if /^(\S.*?):(\d+):(\d+): ((?:block|warn)\[[a-z_]+\]|error|unknown): /;
	}
	return \@f;
}

# the summary line of text output
sub summary_re
{
	my ($files, $stmts, $block, $warn, $error, $unknown) = @_;
	return qr/^checked $files files? \($stmts statements?\): $block would be refused, $warn warnings?, $error errors?, $unknown not judged$/;
}

sub last_line
{
	my @l = split /\n/, $_[0];
	return @l ? $l[-1] : '';
}

# ---------------------------------------------------------------------------
# Every layout, detected from its directory, checked whole against app
# ---------------------------------------------------------------------------
my %layouts = (
	prisma => {
		dir => 'prisma/migrations',
		findings => [
			'20240102000000_add_project_status_index/migration.sql:5:1 block[create_index]',
			'20240104000000_drop_project_legacy_code/migration.sql:8:1 warn[drop_column]',
		],
		summary => [ 5, 11, 1, 1, 0, 0 ],
	},
	flyway => {
		dir => 'flyway/db/migration',
		# V1, V1_1, V2, V3, V4, V5, V10: V10 alters the table V1 creates;
		# V2's CREATE INDEX follows a SET on its line; V3 (CONCURRENTLY) and
		# V4 (.conf) run without a transaction
		findings => [
			'V2__index_projects_team_id.sql:2:26 block[create_index]',
			'V5__drop_projects_legacy_code.sql:2:1 warn[drop_column]',
		],
		summary => [ 7, 12, 1, 1, 0, 0 ],
	},
	diesel => {
		dir => 'diesel/migrations',
		# up.sql only (2024-01-05's down.sql would warn drop_column);
		# 2024-01-03 has run_in_transaction = false
		findings => [
			'2024-01-02-000000_index_projects_owner_created/up.sql:2:1 block[create_index]',
			'2024-01-04-000000_drop_projects_import_ref/up.sql:2:1 warn[drop_column]',
		],
		summary => [ 6, 10, 1, 1, 0, 0 ],
	},
	goose => {
		dir => 'goose/migrations',
		# Up sections only (00005's Down would warn drop_column), line
		# numbers of the file; 00003 is NO TRANSACTION; 00005 has a DO block
		findings => [
			'00002_index_projects_status.sql:2:1 block[create_index]',
			'00004_drop_projects_old_slug.sql:3:1 warn[drop_column]',
			'00005_webhooks_last_delivery.sql:5:1 unknown',
		],
		summary => [ 5, 11, 1, 1, 0, 1 ],
	},
	dbmate => {
		dir => 'dbmate/db/migrations',
		# migrate:up sections only (20240105120000's migrate:down would
		# warn drop_column twice); 20240103120000 is transaction:false
		findings => [
			'20240102120000_index_projects_lower_name.sql:2:1 block[create_index]',
			'20240104120000_drop_projects_is_archived.sql:3:1 warn[drop_column]',
		],
		summary => [ 5, 8, 1, 1, 0, 0 ],
	},
	plain => {
		dir => 'plain',
		# Django's sqlmigrate output, with its own BEGIN and COMMIT
		findings => [
			'0002_project_billing_email.sql:6:1 block[create_index]',
			'0002_project_billing_email.sql:7:1 block[create_index]',
			'0003_remove_project_legacy_code.sql:5:1 warn[drop_column]',
		],
		summary => [ 4, 17, 2, 1, 0, 0 ],
	},
);

for my $tool (qw(prisma flyway diesel goose dbmate plain))
{
	my $l = $layouts{$tool};
	my $path = "$fix/$l->{dir}";
	my ($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', $path);
	is($rc, 1, "$tool: exit 1 (a migration would be refused)")
	  or diag("stdout:\n$stdout\nstderr:\n$stderr");
	is_deeply(findings($stdout), [ map { "$path/$_" } @{ $l->{findings} } ],
		"$tool: each finding at its file:line:col, with its severity and rule")
	  or diag($stdout);
	like(last_line($stdout), summary_re(@{ $l->{summary} }), "$tool: summary line");
	unlike($stdout, qr/\e\[/, "$tool: no colour without a terminal");
	$l->{text} = $stdout;
}

# the text of one finding in full: the first line with the size the server
# measured, the DETAIL indented by 4, the recipe under "safe way:" by 8
{
	my $file = "$fix/prisma/migrations/20240102000000_add_project_status_index/migration.sql";
	my @lines = split /\n/, $layouts{prisma}{text};
	my ($i) = grep { index($lines[$_], "$file:5:1: ") == 0 } 0 .. $#lines;
	ok(defined $i, 'prisma: the create_index finding is printed');
	$i //= 0;
	like($lines[$i],
		qr/^\Q$file\E:5:1: block\[create_index\]: CREATE INDEX would block writes to table "Project" while the index is built \(\d+(?:\.\d+)? [kMG]B, ~100,000 rows, lock held about \d+\.\d\d s\)$/,
		'text: first line, with the size, the rows and the predicted hold');
	like($lines[ $i + 1 ] // '', qr/^    Table "Project" is \d+ [kMG]B with about 100000 rows\. CREATE INDEX takes a SHARE lock/,
		'text: the DETAIL, indented by 4');
	is($lines[ $i + 2 ] // '', '    safe way:', 'text: "safe way:" after the DETAIL');
	like($lines[ $i + 3 ] // '',
		qr/^        CREATE INDEX CONCURRENTLY "Project_userId_status_idx" ON "Project"\("userId", "status"\);/,
		'text: the recipe, indented by 8');
}

# Prisma sends a file of one statement outside a transaction block (the
# CONCURRENTLY of 20240103000000 above passes), a file of more in one
# transaction: CONCURRENTLY there is an error
{
	my $path = "$fix/files/prisma/migrations";
	my ($rc, $stdout) = mg(@conn, '-d', 'app', $path);
	is($rc, 2, 'prisma, CONCURRENTLY in a file of two statements: exit 2');
	is_deeply(findings($stdout),
		["$path/20240201000000_add_project_archived_at/migration.sql:5:1 error"],
		'prisma, CONCURRENTLY in a file of two statements: an error at 5:1')
	  or diag($stdout);
	like(last_line($stdout), summary_re(1, 2, 0, 0, 1, 0), 'prisma, two statements: summary');
}

# no size where the server measured none: a DO block
like($layouts{goose}{text},
	qr/^\Q$fix\E\/goose\/migrations\/00005_webhooks_last_delivery\.sql:5:1: unknown: check\(\) cannot see the statements that this DO runs$/m,
	'text: unknown, the message without a size');

# --tool names the layout: the same as detected
{
	my ($rc, $stdout) = mg(@conn, '-d', 'app', '--tool=flyway', "$fix/flyway/db/migration");
	is($rc, 1, '--tool=flyway: exit 1');
	is($stdout, $layouts{flyway}{text}, '--tool=flyway: the same output as detection');

	# goose files read as plain ones: whole files, each in a transaction,
	# so 00003's CONCURRENTLY is inside one
	($rc, $stdout) = mg(@conn, '-d', 'app', '--tool=plain', "$fix/goose/migrations");
	is($rc, 2, '--tool=plain on goose files: exit 2');
	ok((grep { $_ eq "$fix/goose/migrations/00003_index_projects_created_at.sql:3:1 error" }
		  @{ findings($stdout) }),
		'--tool=plain on goose files: CONCURRENTLY in a transaction is an error')
	  or diag($stdout);
}

# --transaction=file overrides Flyway's own shape: V3's CONCURRENTLY is an
# error in a transaction, and V4's VALIDATE runs while its ADD CONSTRAINT
# holds ACCESS EXCLUSIVE (what the .conf beside V4 avoids)
{
	my $path = "$fix/flyway/db/migration";
	my ($rc, $stdout) = mg(@conn, '-d', 'app', '--transaction=file', $path);
	is($rc, 2, 'flyway --transaction=file: exit 2 (an error)');
	is_deeply(findings($stdout), [
			"$path/V2__index_projects_team_id.sql:2:26 block[create_index]",
			"$path/V3__index_projects_created_at.sql:3:1 error",
			"$path/V4__projects_name_length.sql:7:1 warn[exclusive_lock_held]",
			"$path/V5__drop_projects_legacy_code.sql:2:1 warn[drop_column]",
		], 'flyway --transaction=file: the error in V3 and the warning in V4')
	  or diag($stdout);
	like(last_line($stdout), summary_re(7, 12, 1, 2, 1, 0), 'flyway --transaction=file: summary');
	like($stdout, qr/^\Q$path\E\/V3__index_projects_created_at\.sql:3:1: error: CREATE INDEX CONCURRENTLY cannot run inside a transaction block$/m,
		'flyway --transaction=file: the error is PostgreSQL\'s message');
}

# ---------------------------------------------------------------------------
# Files given directly: plain files, checked in the order given, as one script
# ---------------------------------------------------------------------------
{
	my $cic = "$fix/files/0005_project_created_at_index.sql";
	my ($rc, $stdout) = mg(@conn, '-d', 'app', $cic);
	is($rc, 2, 'CONCURRENTLY in a plain file: exit 2 (one transaction per file)');
	is_deeply(findings($stdout), ["$cic:4:1 error"], 'CONCURRENTLY in a plain file: an error at 4:1');
	like($stdout, qr/^\Q$cic\E:4:1: error: CREATE INDEX CONCURRENTLY cannot run inside a transaction block$/m,
		'CONCURRENTLY in a plain file: the message');

	($rc, $stdout) = mg(@conn, '-d', 'app', '--transaction=statement', $cic);
	is($rc, 0, '--transaction=statement: exit 0');
	is_deeply(findings($stdout), [], '--transaction=statement: CONCURRENTLY is ok');
	like(last_line($stdout), summary_re(1, 1, 0, 0, 0, 0), '--transaction=statement: summary');

	# a table created by an earlier file is known to a later one, and new
	# (not judged) only within the transaction that created it
	my ($create, $rename) =
	  ("$fix/files/0006_create_coupons.sql", "$fix/files/0007_rename_coupon_code.sql");
	($rc, $stdout) = mg(@conn, '-d', 'app', $create, $rename);
	is($rc, 0, 'coupons: exit 0 (a warning only)');
	is_deeply(findings($stdout), ["$rename:3:1 warn[rename_column]"],
		'coupons: the rename in the creating transaction is silent, the later file\'s warns');
	like($stdout, qr/^\Q$rename\E:3:1: warn\[rename_column\]: renaming column "code" of table "coupons" breaks code that still uses the old name$/m,
		'coupons: the message, without a size (a table the script creates)');
	like(last_line($stdout), summary_re(2, 3, 0, 1, 0, 0), 'coupons: summary');

	($rc, $stdout) = mg(@conn, '-d', 'app', '--fail-on=warn', $create, $rename);
	is($rc, 1, 'coupons --fail-on=warn: exit 1');

	($rc, $stdout) = mg(@conn, '-d', 'app', '--transaction=statement', $create, $rename);
	is($rc, 0, 'coupons --transaction=statement: exit 0');
	is_deeply(findings($stdout),
		[ "$create:8:1 warn[rename_column]", "$rename:3:1 warn[rename_column]" ],
		'coupons --transaction=statement: the first rename runs after the CREATE committed, and warns too');

	($rc, $stdout) = mg(@conn, '-d', 'app', $rename);
	is($rc, 2, 'the later file alone: exit 2');
	like($stdout, qr/^\Q$rename\E:3:1: error: relation "coupons" does not exist$/m,
		'the later file alone: the table does not exist');

	# in the order given
	my ($p1, $p4) = ("$fix/plain/0001_initial.sql", "$fix/plain/0004_invoice_paid_at.sql");
	($rc, $stdout) = mg(@conn, '-d', 'app', $p1, $p4);
	is($rc, 0, 'plain 0001 then 0004: exit 0');
	is_deeply(findings($stdout), [], 'plain 0001 then 0004: 0004 alters the table 0001 creates');
	($rc, $stdout) = mg(@conn, '-d', 'app', $p4, $p1);
	is($rc, 2, 'plain 0004 then 0001: exit 2');
	is_deeply(findings($stdout), ["$p4:5:1 error"], 'plain 0004 then 0001: 0004 first does not know the table');
	like($stdout, qr/relation "billing_invoice" does not exist/, 'plain 0004 then 0001: the message');

	# a syntax error: its file:line:col, exit 2
	my $syntax = "$fix/files/syntax_error.sql";
	my @sl = split /\n/, slurp_file($syntax);
	my $col = index($sl[2], 'DEFALT') + 1;
	my $stderr;
	($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', $p1, $syntax);
	is($rc, 2, 'syntax error: exit 2');
	like($stdout . $stderr, qr/^\Q$syntax\E:3:$col: error: syntax error at or near "DEFALT"$/m,
		"syntax error: at $syntax:3:$col")
	  or diag("stdout:\n$stdout\nstderr:\n$stderr");
}

# ---------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------
my @json_keys = sort qw(file line column migration statement severity rule command
  relation lock_mode table_bytes est_rows predicted_seconds message detail hint recipe);

# the JSON type of a decoded value (before it is used as a string)
sub json_type
{
	my ($v) = @_;
	return 'null' unless defined $v;
	return 'array' if ref $v eq 'ARRAY';
	return 'object' if ref $v eq 'HASH';
	return 'boolean' if JSON::PP::is_bool($v);
	my $flags = B::svref_2object(\$v)->FLAGS;
	return (($flags & (B::SVp_IOK | B::SVp_NOK)) && !($flags & B::SVp_POK))
	  ? 'number' : 'string';
}

my %json_types = (
	file => ['string'], line => ['number'], column => ['number'],
	migration => ['string'], statement => ['number'], severity => ['string'],
	rule => [ 'string', 'null' ], command => ['string'],
	relation => [ 'string', 'null' ], lock_mode => [ 'string', 'null' ],
	table_bytes => [ 'number', 'null' ], est_rows => [ 'number', 'null' ],
	predicted_seconds => [ 'number', 'null' ],
	message => ['string'], detail => [ 'string', 'null' ],
	hint => [ 'string', 'null' ], recipe => ['array'],);

sub json_findings
{
	my ($what, @args) = @_;
	my ($rc, $stdout, $stderr) = mg(@conn, '--format=json', @args);
	my $data = eval { JSON::PP->new->decode($stdout) };
	ok(defined $data && ref $data eq 'ARRAY', "$what: one JSON array")
	  or diag("$@\nstdout:\n$stdout\nstderr:\n$stderr");
	$data = [] unless ref $data eq 'ARRAY';
	my $i = 0;
	for my $f (@$data)
	{
		$i++;
		if (ref $f ne 'HASH')
		{
			fail("$what: element $i is an object");
			next;
		}
		is_deeply([ sort keys %$f ], \@json_keys, "$what: element $i has the keys");
		my @bad = grep {
			my $t = json_type($f->{$_});
			!grep { $_ eq $t } @{ $json_types{$_} }
		} grep { exists $f->{$_} } sort keys %json_types;
		is_deeply(\@bad, [], "$what: element $i: every value of its JSON type");
		ok(!grep({ ref $_ || !defined $_ } @{ $f->{recipe} // [] }),
			"$what: element $i: recipe is an array of strings");
	}
	return ($rc, $data);
}

{
	my $path = "$fix/goose/migrations";
	my ($rc, $data) = json_findings('goose JSON', '-d', 'app', $path);
	is($rc, 1, 'goose JSON: exit 1');
	is(scalar @$data, 3, 'goose JSON: 3 findings');
	my ($blk, $wrn, $unk) = @$data;
	$_ //= {} for ($blk, $wrn, $unk);

	is($blk->{file}, "$path/00002_index_projects_status.sql", 'JSON block: file');
	is($blk->{line}, 2, 'JSON block: line');
	is($blk->{column}, 1, 'JSON block: column');
	ok((grep { ($blk->{migration} // '') eq $_ } ('00002_index_projects_status.sql', '00002', '2')),
		"JSON block: migration is goose's version or file name")
	  or diag("migration: " . ($blk->{migration} // 'undef'));
	is($blk->{statement}, 1, 'JSON block: statement 1 of its file');
	is($blk->{severity}, 'block', 'JSON block: severity');
	is($blk->{rule}, 'create_index', 'JSON block: rule');
	is($blk->{command}, 'CREATE INDEX', 'JSON block: command');
	is($blk->{relation}, 'projects', 'JSON block: relation');
	is($blk->{lock_mode}, 'ShareLock', 'JSON block: lock_mode');
	ok(defined $blk->{table_bytes} && $blk->{table_bytes} > 1024 * 1024 && $blk->{table_bytes} < 100 * 1024 * 1024,
		'JSON block: table_bytes over the threshold');
	is($blk->{est_rows}, 100000, 'JSON block: est_rows');
	# a B-tree build of the table's bytes at the server's rate, as check() predicts it
	my $want = $node->safe_psql('app', "SELECT round((predicted_seconds)::numeric, 3)
	  FROM migration_guard.check('CREATE INDEX ON projects (status)', 'statement')
	 WHERE rule = 'create_index'");
	is(sprintf('%.3f', $blk->{predicted_seconds} // -1), $want, 'JSON block: predicted_seconds is check()\'s');
	is($blk->{message}, 'CREATE INDEX would block writes to table "projects" while the index is built',
		'JSON block: message, without the size');
	like($blk->{detail} // '', qr/^Table "projects" is \d+ [kMG]B with about 100000 rows\./, 'JSON block: detail');
	like($blk->{hint} // '', qr/CREATE INDEX CONCURRENTLY/, 'JSON block: hint');
	like(($blk->{recipe} // [])->[0] // '',
		qr/^CREATE INDEX CONCURRENTLY projects_status_idx ON projects \(status\);/,
		'JSON block: recipe');

	is($wrn->{file}, "$path/00004_drop_projects_old_slug.sql", 'JSON warn: file');
	is($wrn->{line}, 3, 'JSON warn: line (the file\'s, after the goose annotation and a comment)');
	is($wrn->{column}, 1, 'JSON warn: column');
	is($wrn->{statement}, 1, 'JSON warn: statement 1 of its file');
	is($wrn->{severity}, 'warn', 'JSON warn: severity');
	is($wrn->{rule}, 'drop_column', 'JSON warn: rule');
	is($wrn->{command}, 'ALTER TABLE', 'JSON warn: command');
	is($wrn->{relation}, 'projects', 'JSON warn: relation');
	is($wrn->{lock_mode}, 'AccessExclusiveLock', 'JSON warn: lock_mode');
	like($wrn->{message} // '', qr/^dropping column "old_slug" of table "projects"/, 'JSON warn: message');

	is($unk->{file}, "$path/00005_webhooks_last_delivery.sql", 'JSON unknown: file');
	is($unk->{line}, 5, 'JSON unknown: line');
	is($unk->{column}, 1, 'JSON unknown: column');
	is($unk->{statement}, 2, 'JSON unknown: statement 2 of its file');
	is($unk->{severity}, 'unknown', 'JSON unknown: severity');
	ok(!defined $unk->{rule}, 'JSON unknown: rule null');
	is($unk->{command}, 'DO', 'JSON unknown: command');
	ok(!defined $unk->{relation} && !defined $unk->{lock_mode}
		  && !defined $unk->{table_bytes} && !defined $unk->{est_rows},
		'JSON unknown: relation, lock_mode, table_bytes and est_rows null');
	is_deeply($unk->{recipe}, [], 'JSON unknown: recipe empty');

	# statement and column past the first of a line; migration of prisma
	$path = "$fix/flyway/db/migration";
	($rc, $data) = json_findings('flyway JSON', '-d', 'app', $path);
	is($rc, 1, 'flyway JSON: exit 1');
	is_deeply([ map { "$_->{file}:$_->{line}:$_->{column}:$_->{statement} $_->{severity}" } @$data ],
		[ "$path/V2__index_projects_team_id.sql:2:26:2 block",
		  "$path/V5__drop_projects_legacy_code.sql:2:1:1 warn" ],
		'flyway JSON: file, line, column, statement and severity of each finding');
	ok((grep { ($data->[0]{migration} // '') eq $_ } ('2', 'V2', 'V2__index_projects_team_id.sql')),
		"flyway JSON: migration is the version or the file name")
	  or diag("migration: " . ($data->[0]{migration} // 'undef'));

	$path = "$fix/prisma/migrations";
	($rc, $data) = json_findings('prisma JSON', '-d', 'app', $path);
	is_deeply([ map { $_->{migration} } @$data ],
		[ '20240102000000_add_project_status_index', '20240104000000_drop_project_legacy_code' ],
		'prisma JSON: migration is the directory name');

	# an error: PostgreSQL's message
	my $cic = "$fix/files/0005_project_created_at_index.sql";
	($rc, $data) = json_findings('error JSON', '-d', 'app', $cic);
	is($rc, 2, 'error JSON: exit 2');
	is_deeply([ map { "$_->{file}:$_->{line}:$_->{column} $_->{severity} " . ($_->{rule} // 'null') . " $_->{message}" } @$data ],
		[ "$cic:4:1 error null CREATE INDEX CONCURRENTLY cannot run inside a transaction block" ],
		'error JSON: severity error, rule null, the message');
	is($data->[0]{migration}, '0005_project_created_at_index.sql', 'error JSON: migration of a plain file is its name');

	# nothing to report: an empty array
	($rc, $data) = json_findings('empty JSON', '-d', 'app', '--transaction=statement', $cic);
	is($rc, 0, 'empty JSON: exit 0');
	is_deeply($data, [], 'empty JSON: []');
}

# ---------------------------------------------------------------------------
# GitHub workflow commands
# ---------------------------------------------------------------------------
{
	my $path = "$fix/goose/migrations";
	my ($rc, $stdout) = mg(@conn, '-d', 'app', '--format=github', $path);
	is($rc, 1, 'github: exit 1');
	my @lines = split /\n/, $stdout;
	is(scalar @lines, 3, 'github: one line per finding') or diag($stdout);
	like($lines[0] // '',
		qr/^::error file=\Q$path\E\/00002_index_projects_status\.sql,line=2,col=1,title=migration_guard block\[create_index\]::CREATE INDEX would block writes to table "projects" while the index is built%0A%0ATable "projects" is \d+ [kMG]B with about 100000 rows\./,
		'github: ::error for block, message, %0A%0A, DETAIL');
	like($lines[1] // '',
		qr/^::warning file=\Q$path\E\/00004_drop_projects_old_slug\.sql,line=3,col=1,title=migration_guard warn\[drop_column\]::dropping column "old_slug" of table "projects"/,
		'github: ::warning for warn');
	like($lines[2] // '',
		qr/^::notice file=\Q$path\E\/00005_webhooks_last_delivery\.sql,line=5,col=1,title=migration_guard unknown[^:]*::check\(\) cannot see the statements that this DO runs/,
		'github: ::notice for unknown');

	# escaping: ',' and ':' in the file property, '%' in the message
	my $dir = PostgreSQL::Test::Utils::tempdir() . '/release,2024:q1';
	mkdir $dir or die "mkdir $dir: $!";
	my $odd = "$dir/0001_odd.sql";
	open my $fh, '>', $odd or die "$odd: $!";
	print $fh qq{ALTER TABLE "no,such:table%" ADD COLUMN note text;\n};
	close $fh;
	(my $escaped = $odd) =~ s/%/%25/g;
	$escaped =~ s/\r/%0D/g;
	$escaped =~ s/\n/%0A/g;
	$escaped =~ s/:/%3A/g;
	$escaped =~ s/,/%2C/g;
	($rc, $stdout) = mg(@conn, '-d', 'app', '--format=github', $odd);
	is($rc, 2, 'github error: exit 2');
	like($stdout,
		qr/^::error file=\Q$escaped\E,line=1,col=1,title=migration_guard error[^:]*::relation "no,such:table%25" does not exist(?:%0A.*)?$/m,
		'github error: ::error; , and : escaped in the file, % in the message')
	  or diag($stdout);
}

# ---------------------------------------------------------------------------
# --pending: only what the tool's history table does not record as applied
# ---------------------------------------------------------------------------
my %pending = (
	# 20240103...: finished_at NULL, rolled_back_at set
	prisma => [ [ '20240104000000_drop_project_legacy_code/migration.sql:8:1 warn[drop_column]' ],
		[ 3, 4, 0, 1, 0, 0 ] ],
	# versions 1, 1.1, 2 success; 3 success = false
	flyway => [ [ 'V5__drop_projects_legacy_code.sql:2:1 warn[drop_column]' ],
		[ 4, 6, 0, 1, 0, 0 ] ],
	# 00000000000000, 20240101000000, 20240102000000
	diesel => [ [ '2024-01-04-000000_drop_projects_import_ref/up.sql:2:1 warn[drop_column]' ],
		[ 3, 4, 0, 1, 0, 0 ] ],
	# 1 and 2 applied; 3's latest row has is_applied false
	goose => [ [ '00004_drop_projects_old_slug.sql:3:1 warn[drop_column]',
			'00005_webhooks_last_delivery.sql:5:1 unknown' ],
		[ 3, 4, 0, 1, 0, 1 ] ],
	dbmate => [ [ '20240104120000_drop_projects_is_archived.sql:3:1 warn[drop_column]' ],
		[ 3, 4, 0, 1, 0, 0 ] ],);

for my $tool (qw(prisma flyway diesel goose dbmate))
{
	my $path = "$fix/$layouts{$tool}{dir}";
	my ($rc, $stdout, $stderr) = mg(@conn, '-d', 'deployed', '--pending', $path);
	is($rc, 0, "$tool --pending: exit 0 (the refused migration is applied)")
	  or diag("stdout:\n$stdout\nstderr:\n$stderr");
	is_deeply(findings($stdout), [ map { "$path/$_" } @{ $pending{$tool}[0] } ],
		"$tool --pending: only the findings of the pending migrations")
	  or diag($stdout);
	like(last_line($stdout), summary_re(@{ $pending{$tool}[1] }), "$tool --pending: summary");

	($rc) = mg(@conn, '-d', 'deployed', '--pending', '--fail-on=warn', $path);
	is($rc, 1, "$tool --pending --fail-on=warn: exit 1");
}

{
	# without --pending the applied migrations are checked again, and
	# fail as they would if run again: their tables are already there
	my ($rc, $stdout) = mg(@conn, '-d', 'deployed', "$fix/prisma/migrations");
	is($rc, 2, 'deployed without --pending: exit 2');
	is(findings($stdout)->[0], "$fix/prisma/migrations/20240101000000_init/migration.sql:2:1 error",
		'deployed without --pending: the applied first migration is an error');
	like($stdout, qr/^\S+:2:1: error: relation "\w+" already exists$/m,
		'deployed without --pending: PostgreSQL\'s message, the table already exists');

	# no history table: everything is pending
	($rc, $stdout) = mg(@conn, '-d', 'app', '--pending', "$fix/dbmate/db/migrations");
	is($rc, 1, '--pending without a history table: exit 1');
	is($stdout, $layouts{dbmate}{text}, '--pending without a history table: every file checked');

	my $stderr;
	($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', '--pending', "$fix/plain");
	is($rc, 2, '--pending for plain files: usage error, exit 2');
	isnt($stderr, '', '--pending for plain files: a message');
}

# ---------------------------------------------------------------------------
# --fail-on=warn: warnings and unknown fail too; block always does
# ---------------------------------------------------------------------------
{
	my $do = PostgreSQL::Test::Utils::tempdir() . '/backfill.sql';
	open my $fh, '>', $do or die "$do: $!";
	print $fh "DO \$\$\nBEGIN\n    UPDATE projects SET status = 'archived' WHERE status = 'closed';\nEND\n\$\$;\n";
	close $fh;
	my ($rc, $stdout) = mg(@conn, '-d', 'app', $do);
	is($rc, 0, 'a DO block: exit 0');
	is_deeply(findings($stdout), ["$do:1:1 unknown"], 'a DO block: unknown at 1:1');
	($rc) = mg(@conn, '-d', 'app', '--fail-on=warn', $do);
	is($rc, 1, 'a DO block --fail-on=warn: exit 1');
	($rc) = mg(@conn, '-d', 'app', '--fail-on=block', $do);
	is($rc, 0, 'a DO block --fail-on=block: exit 0');
	($rc) = mg(@conn, '-d', 'app', '--fail-on=warn', "$fix/goose/migrations");
	is($rc, 1, 'goose --fail-on=warn: exit 1');
}

# ---------------------------------------------------------------------------
# Connections, colour, usage
# ---------------------------------------------------------------------------
{
	my $path = "$fix/plain";
	my $want = $layouts{plain}{text};
	my $host = $node->host;
	my $port = $node->port;

	my ($rc, $stdout) = mg({ PGHOST => $host, PGPORT => $port, PGDATABASE => 'app' }, $path);
	is($rc, 1, 'PGHOST, PGPORT, PGDATABASE: exit 1');
	is($stdout, $want, 'PGHOST, PGPORT, PGDATABASE: the same findings');

	($rc, $stdout) = mg('-d', "host=$host port=$port dbname=app", $path);
	is($rc, 1, '-d conninfo: exit 1');
	is($stdout, $want, '-d conninfo: the same findings');

	($rc, $stdout) = mg('-d', "postgresql:///app?host=$host&port=$port", $path);
	is($rc, 1, '-d URI: exit 1');
	is($stdout, $want, '-d URI: the same findings');

	my $user = $node->safe_psql('postgres', 'SELECT current_user');
	($rc, $stdout) = mg('-h', $host, '-p', $port, '-U', $user, '-d', 'app', $path);
	is($rc, 1, '-h -p -U -d: exit 1');
	is($stdout, $want, '-h -p -U -d: the same findings');

	my $stderr;
	($rc, $stdout, $stderr) = mg('-h', $host, '-p', $port, '-U', 'no_such_role', '-d', 'app', $path);
	is($rc, 2, 'an unknown role: exit 2');
	isnt($stderr, '', 'an unknown role: a message on stderr');

	my $free = PostgreSQL::Test::Cluster::get_free_port();
	($rc, $stdout, $stderr) = mg('-h', $host, '-p', $free, '-d', 'app', $path);
	is($rc, 2, 'connection failure: exit 2');
	isnt($stderr, '', 'connection failure: a message on stderr');
	is_deeply(findings($stdout), [], 'connection failure: no finding');

	($rc, $stdout, $stderr) = mg(@conn, '-d', 'noext', $path);
	is($rc, 2, 'database without the extension: exit 2');
	like($stderr, qr/extension/i, 'database without the extension: says extension');
	like($stderr, qr/migration_guard/, 'database without the extension: names migration_guard');

	($rc, $stdout) = mg(@conn, '-d', 'app', '--color=always', $path);
	is($rc, 1, '--color=always: exit 1');
	like($stdout, qr/\e\[/, '--color=always: colour');
	($rc, $stdout) = mg(@conn, '-d', 'app', '--color=never', $path);
	is($stdout, $want, '--color=never: no colour');

	for my $bad ([ '--format=xml', $path ], [ '--tool=rails', $path ],
		[ '--transaction=migration', $path ], [ '--fail-on=error', $path ],
		[ "$fix/no_such_directory" ], [])
	{
		($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', @$bad);
		is($rc, 2, 'usage error: check ' . join(' ', @$bad) . ': exit 2');
	}
}

# ---------------------------------------------------------------------------
# Options: a mistyped option is an error, never the help
# ---------------------------------------------------------------------------
{
	my ($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', '--fial-on=warn', "$fix/plain");
	is($rc, 2, 'a mistyped long option: exit 2');
	is($stdout, '', 'a mistyped long option: no help printed');
	like($stderr, qr/^migration_guard: .*--fial-on/m,
		'a mistyped long option: getopt names it, as migration_guard (not "check")');
	like($stderr, qr/^migration_guard: hint: Try "migration_guard --help" for more information\.$/m,
		'a mistyped long option: the hint');

	($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', '-x', "$fix/plain");
	is($rc, 2, 'an unknown short option: exit 2');
	like($stderr, qr/^migration_guard: .*'?x'?\n.*Try "migration_guard --help"/m,
		'an unknown short option: named, with the hint');

	($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', "$fix/plain", '--tool');
	is($rc, 2, 'an option without its argument: exit 2');
	is($stdout, '', 'an option without its argument: no help printed');

	for my $help ('--help', '-?')
	{
		($rc, $stdout) = mg($help);
		is($rc, 0, "check $help: exit 0");
		like($stdout, qr/^Usage:\n  migration_guard check \[OPTION\]\.\.\. PATH\.\.\.$/m,
			"check $help: the usage");
	}
	($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', '--tool=rails', "$fix/plain");
	like($stderr, qr/^migration_guard: error: unrecognized tool "rails"/m,
		'--tool=rails: "unrecognized tool"');
}

# ---------------------------------------------------------------------------
# A syntax error at the very end of a file: at its last line, never our
# script
# ---------------------------------------------------------------------------
my $tmp = PostgreSQL::Test::Utils::tempdir();

# writes a file (bytes as given) and returns its path
sub put_file
{
	my ($path, $text) = @_;
	open my $fh, '>', $path or die "$path: $!";
	binmode $fh;
	print $fh $text;
	close $fh;
	return $path;
}

{
	my $stmt = 'ALTER TABLE projects ADD COLUMN archived_by bigint NOT NULL DEFAULT';
	my $end = put_file("$tmp/end_error.sql", "-- no default given\n$stmt\n");
	my ($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', $end);
	is($rc, 2, 'a syntax error at the end of a file: exit 2');
	is_deeply(findings($stdout), [ "$end:2:" . (length($stmt) + 1) . " error" ],
		'a syntax error at the end of a file: at its last line, after the statement')
	  or diag("stdout:\n$stdout\nstderr:\n$stderr");
	unlike($stdout . $stderr, qr/QUERY|BEGIN;|COMMIT;/,
		'a syntax error at the end of a file: the script is not printed');

	my $nonl = put_file("$tmp/end_error_nonl.sql", $stmt);
	($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', $nonl, "$fix/plain/0001_initial.sql");
	is_deeply(findings($stdout), [ "$nonl:1:" . (length($stmt) + 1) . " error" ],
		'a syntax error at the end of a file without a newline: at its last line')
	  or diag("stdout:\n$stdout\nstderr:\n$stderr");
}

# ---------------------------------------------------------------------------
# Files given one by one keep their tool's rules
# ---------------------------------------------------------------------------
{
	# Prisma: a file of one statement has no transaction, and is named by
	# its directory
	my $p = "$fix/prisma/migrations/20240103000000_add_project_name_index/migration.sql";
	my ($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', $p);
	is($rc, 0, 'a Prisma migration.sql given alone: exit 0 (one statement, no transaction)')
	  or diag("stdout:\n$stdout\nstderr:\n$stderr");
	is_deeply(findings($stdout), [], 'a Prisma migration.sql given alone: its CONCURRENTLY passes');

	my $p2 = "$fix/prisma/migrations/20240102000000_add_project_status_index/migration.sql";
	my ($rc2, $data) = json_findings('a Prisma file given alone, JSON', '-d', 'app', $p2);
	is($data->[0]{migration}, '20240102000000_add_project_status_index',
		'a Prisma migration.sql given alone: named by its directory');

	# Diesel: metadata.toml beside up.sql
	my $d = "$fix/diesel/migrations/2024-01-03-000000_index_projects_updated_at/up.sql";
	($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', $d);
	is($rc, 0, 'a Diesel up.sql given alone: exit 0 (metadata.toml: no transaction)')
	  or diag("stdout:\n$stdout\nstderr:\n$stderr");

	# Flyway: found by its name, with its .conf
	my $v4 = "$fix/flyway/db/migration/V4__projects_name_length.sql";
	($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', $v4);
	is($rc, 0, 'a Flyway file given alone: exit 0')
	  or diag("stdout:\n$stdout\nstderr:\n$stderr");
	is_deeply(findings($stdout), [],
		'a Flyway file given alone: its .conf says no transaction, so no exclusive_lock_held');
	my $v3 = "$fix/flyway/db/migration/V3__index_projects_created_at.sql";
	($rc) = mg(@conn, '-d', 'app', $v3);
	is($rc, 0, 'a Flyway file given alone: CONCURRENTLY runs without a transaction');
	($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', '--tool=flyway', "$fix/plain/0001_initial.sql");
	is($rc, 2, '--tool=flyway on a file not named V<version>__: exit 2');
	like($stderr, qr/is not a Flyway versioned migration/, '--tool=flyway on a file not named V<version>__: says so');

	# --pending: each file by its tool's version
	my @pending_files = (
		[ 'goose', "$fix/goose/migrations/00002_index_projects_status.sql", 0 ],
		[ 'goose', "$fix/goose/migrations/00004_drop_projects_old_slug.sql", 1 ],
		[ 'dbmate', "$fix/dbmate/db/migrations/20240102120000_index_projects_lower_name.sql", 0 ],
		[ 'prisma', "$fix/prisma/migrations/20240101000000_init/migration.sql", 0 ],
		[ 'diesel', "$fix/diesel/migrations/2024-01-02-000000_index_projects_owner_created/up.sql", 0 ],
		[ 'flyway', "$fix/flyway/db/migration/V2__index_projects_team_id.sql", 0 ],
		[ 'flyway', "$fix/flyway/db/migration/V5__drop_projects_legacy_code.sql", 1 ]);
	for my $pf (@pending_files)
	{
		my ($tool, $file, $files) = @$pf;
		($rc, $stdout, $stderr) = mg(@conn, '-d', 'deployed', '--pending', $file);
		is($rc, 0, "$tool file given alone --pending: exit 0");
		like(last_line($stdout), qr/^checked $files files? /,
			"$tool file given alone --pending: " . ($files ? 'pending' : 'applied, not checked'))
		  or diag("stdout:\n$stdout\nstderr:\n$stderr");
	}
}

# ---------------------------------------------------------------------------
# Statements counted as PostgreSQL reads them: a parameter named begin is
# no BEGIN ATOMIC; a backslash ends a plain string
# ---------------------------------------------------------------------------
{
	my %files = (
		begin_param => "CREATE FUNCTION project_rank(begin int) RETURNS int LANGUAGE sql RETURN 1;\n",
		like_backslash => "SELECT 'x' LIKE'a\\';\n");
	for my $case (sort keys %files)
	{
		my $dir = "$tmp/prisma_$case/migrations/20240301000000_$case";
		mkdir "$tmp/prisma_$case";
		mkdir "$tmp/prisma_$case/migrations";
		mkdir $dir;
		put_file("$dir/migration.sql", $files{$case}
			  . "CREATE INDEX CONCURRENTLY projects_${case}_idx ON projects (name);\n");
		my ($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', "$tmp/prisma_$case/migrations");
		is($rc, 2, "prisma, $case: two statements, so one transaction: exit 2");
		is_deeply(findings($stdout), ["$dir/migration.sql:2:1 error"],
			"prisma, $case: CONCURRENTLY in the transaction is an error")
		  or diag("stdout:\n$stdout\nstderr:\n$stderr");
	}
}

# ---------------------------------------------------------------------------
# Inside a migration directory: symbolic links and FIFOs are errors
# ---------------------------------------------------------------------------
{
	my $dir = "$tmp/links";
	mkdir $dir;
	put_file("$dir/0001_ok.sql", "CREATE TABLE link_test (id int);\n");
	symlink("$fix/plain/0001_initial.sql", "$dir/README.md") or die "symlink: $!";
	my ($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', $dir);
	is($rc, 0, 'a symbolic link that is no migration is left alone: exit 0')
	  or diag("stdout:\n$stdout\nstderr:\n$stderr");

	symlink("$dir/no_such_file.sql", "$dir/0002_dangling.sql") or die "symlink: $!";
	($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', $dir);
	is($rc, 2, 'a dangling symbolic link as a migration: exit 2');
	like($stderr, qr/"\Q$dir\E\/0002_dangling\.sql" is not a regular file/,
		'a dangling symbolic link as a migration: named');
	like($stderr, qr/symbolic link/, 'a dangling symbolic link as a migration: says what it is');
	unlink "$dir/0002_dangling.sql";

	symlink("$fix/plain/0001_initial.sql", "$dir/0002_linked.sql") or die "symlink: $!";
	($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', $dir);
	is($rc, 2, 'a symbolic link to a migration: exit 2');
	like($stderr, qr/"\Q$dir\E\/0002_linked\.sql" is not a regular file/,
		'a symbolic link to a migration: named');
	unlink "$dir/0002_linked.sql";

	SKIP:
	{
		skip 'no mkfifo', 2 unless eval { require POSIX; POSIX::mkfifo("$dir/0003_fifo.sql", 0600) };
		($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', $dir);
		is($rc, 2, 'a FIFO as a migration: exit 2, without waiting for a writer');
		like($stderr, qr/"\Q$dir\E\/0003_fifo\.sql" is not a regular file/, 'a FIFO as a migration: named');
		unlink "$dir/0003_fifo.sql";
	}

	# PATH itself may be a symbolic link
	symlink($dir, "$tmp/links_path") or die "symlink: $!";
	($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', "$tmp/links_path");
	is($rc, 0, 'PATH a symbolic link to a directory: exit 0');
	like(last_line($stdout), summary_re(1, 1, 0, 0, 0, 0), 'PATH a symbolic link to a directory: its file checked');

	# a Prisma migration directory that is a symbolic link
	my $pdir = "$tmp/prisma_links/migrations";
	mkdir "$tmp/prisma_links";
	mkdir $pdir;
	symlink("$fix/prisma/migrations/20240101000000_init", "$pdir/20240101000000_init")
	  or die "symlink: $!";
	($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', '--tool=prisma', $pdir);
	is($rc, 2, 'prisma: a migration directory that is a symbolic link: exit 2');
	like($stderr, qr/"\Q$pdir\E\/20240101000000_init" is not a regular file/,
		'prisma: a migration directory that is a symbolic link: named');
}

# ---------------------------------------------------------------------------
# Encodings: a byte order mark, UTF-8 whatever PGCLIENTENCODING says, a file
# that is not UTF-8
# ---------------------------------------------------------------------------
{
	my $bom = put_file("$tmp/bom.sql", "\xEF\xBB\xBFCREATE INDEX ON projects (name);\n");
	my ($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', $bom);
	is($rc, 1, 'a file with a byte order mark: exit 1');
	is_deeply(findings($stdout), ["$bom:1:1 block[create_index]"],
		'a file with a byte order mark: read without it, the statement at 1:1')
	  or diag("stdout:\n$stdout\nstderr:\n$stderr");

	my $cafe = put_file("$tmp/cafe.sql", "-- caf\xC3\xA9\nALTER TABLE \"caf\xC3\xA9\" ADD COLUMN note text;\n");
	my $data;
	local $ENV{PGCLIENTENCODING} = 'LATIN1';
	($rc, $data) = json_findings('PGCLIENTENCODING=LATIN1', '-d', 'app', $cafe);
	is($rc, 2, 'PGCLIENTENCODING=LATIN1: exit 2');
	# (json_findings decodes characters, not UTF-8: these are its bytes)
	is($data->[0]{message} // '', "relation \"caf\xC3\xA9\" does not exist",
		'PGCLIENTENCODING=LATIN1: the server\'s message in UTF-8');
	($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', "$fix/plain/0001_initial.sql",
		put_file("$tmp/cafe_syntax.sql", "SELECT 'caf\xC3\xA9' FRM x;\n"));
	is_deeply(findings($stdout), ["$tmp/cafe_syntax.sql:1:19 error"],
		'PGCLIENTENCODING=LATIN1: a syntax error\'s column counts characters of UTF-8')
	  or diag("stdout:\n$stdout\nstderr:\n$stderr");
	delete $ENV{PGCLIENTENCODING};

	my $latin1 = put_file("$tmp/latin1.sql", "-- ok\nALTER TABLE \"caf\xE9\" ADD COLUMN note text;\n");
	($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', $latin1);
	is($rc, 2, 'a file that is not UTF-8: exit 2');
	like($stderr, qr/^migration_guard: error: file "\Q$latin1\E" is not valid UTF-8\n.*Line 2 /m,
		'a file that is not UTF-8: named, with the line');
}

# ---------------------------------------------------------------------------
# What files and the server say cannot reach a terminal or GitHub Actions
# as commands
# ---------------------------------------------------------------------------
{
	my $evil = put_file("$tmp/0001_evil.sql",
		qq{ALTER TABLE "red\e[31m\n::error::injected" ADD COLUMN note text;\n});
	my ($rc, $stdout, $stderr) = mg(@conn, '-d', 'app', $evil);
	is($rc, 2, 'control characters in a message: exit 2');
	like($stdout, qr/^\Q$evil\E:1:1: error: relation "red\\x1B\[31m\\x0A::error::injected" does not exist$/m,
		'text: control characters escaped, the message on one line')
	  or diag($stdout);
	unlike($stdout, qr/\e|^\s*::/m, 'text: no escape character, no line that starts with "::"');

	($rc, $stdout) = mg(@conn, '-d', 'app', '--format=github', $evil);
	my @gh = split /\n/, $stdout;
	is(scalar @gh, 1, 'github: one line for the finding');
	like($gh[0] // '', qr/::relation "red\e\[31m%0A::error::injected" does not exist(?:%0A.*)?$/,
		'github: the newline of the message escaped');

	# GITHUB_ACTIONS: workflow commands stopped around what is printed
	my %gha = (GITHUB_ACTIONS => 'true');
	my $want = $layouts{plain}{text};
	($rc, $stdout) = mg(\%gha, @conn, '-d', 'app', "$fix/plain");
	is($rc, 1, 'GITHUB_ACTIONS, text: exit 1');
	my @l = split /\n/, $stdout, -1;
	my ($token) = ($l[0] // '') =~ /^::stop-commands::([0-9a-f]{32})$/;
	ok(defined $token, 'GITHUB_ACTIONS, text: the first line stops workflow commands')
	  or diag($stdout);
	$token //= 'none';
	is($l[-2] // '', "::$token\::", 'GITHUB_ACTIONS, text: the last line resumes them, with the token');
	is(join("\n", @l[ 1 .. $#l - 2 ]) . "\n", $want, 'GITHUB_ACTIONS, text: the report between them');
	my ($rc2, $stdout2) = mg(\%gha, @conn, '-d', 'app', "$fix/plain");
	my ($token2) = $stdout2 =~ /^::stop-commands::([0-9a-f]{32})$/m;
	isnt($token2 // '', $token, 'GITHUB_ACTIONS: a new token each run');

	($rc, $stdout, $stderr) = mg(\%gha, @conn, '-d', 'noext', "$fix/plain");
	is($rc, 2, 'GITHUB_ACTIONS, an error: exit 2');
	@l = split /\n/, $stderr;
	($token) = ($l[0] // '') =~ /^::stop-commands::([0-9a-f]{32})$/;
	ok(defined $token, 'GITHUB_ACTIONS, an error: stderr starts by stopping workflow commands')
	  or diag($stderr);
	is($l[-1] // '', '::' . ($token // 'none') . '::', 'GITHUB_ACTIONS, an error: and resumes them at its end');

	($rc, $stdout) = mg(\%gha, @conn, '-d', 'app', '--format=github', "$fix/goose/migrations");
	my ($rc3, $plain_gh) = mg(@conn, '-d', 'app', '--format=github', "$fix/goose/migrations");
	is($stdout, $plain_gh, 'GITHUB_ACTIONS, github format: our workflow commands, not stopped');

	my $data;
	{
		local $ENV{GITHUB_ACTIONS} = 'true';
		($rc, $data) = json_findings('GITHUB_ACTIONS, JSON', '-d', 'app', $evil);
	}
	is(scalar @$data, 1, 'GITHUB_ACTIONS, JSON: still one JSON array, one finding');

	# JSON is UTF-8: a file name that is not becomes U+FFFD; text shows \xNN
	my $odd = put_file("$tmp/0001_\xFF.sql", "DO \$\$ BEGIN END \$\$;\n");
	($rc, $stdout) = mg(@conn, '-d', 'app', '--format=json', $odd);
	$data = eval { JSON::PP->new->utf8->decode($stdout) };
	ok(ref $data eq 'ARRAY', 'JSON: valid UTF-8 with a file name that is not') or diag($@);
	is($data->[0]{file} // '', "$tmp/0001_\x{fffd}.sql", 'JSON: a byte that is not UTF-8 is U+FFFD');
	($rc, $stdout) = mg(@conn, '-d', 'app', $odd);
	like($stdout, qr/^\Q$tmp\E\/0001_\\xFF\.sql:1:1: unknown: /m, 'text: a byte that is not UTF-8 as \xFF');
}

# standard output that cannot be written: exit 2, and a message
SKIP:
{
	skip 'no /dev/full', 2 unless -c '/dev/full';
	my $stderr = '';
	IPC::Run::run([ $prog, 'check', @conn, '-d', 'app', "$fix/plain" ],
		'<', \'', '>', '/dev/full', '2>', \$stderr);
	is($? >> 8, 2, 'stdout full: exit 2');
	like($stderr, qr/could not write to standard output: /, 'stdout full: says so');
}

# Flyway's baseline: every version up to it is applied; "2.0" is "2"
{
	$node->safe_psql('postgres', 'CREATE DATABASE baselined TEMPLATE deployed');
	$node->safe_psql('baselined', q{
DELETE FROM flyway_schema_history;
INSERT INTO flyway_schema_history
    (installed_rank, version, description, type, script, checksum,
     installed_by, installed_on, execution_time, success) VALUES
(1, '1.1', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'deploy', '2024-01-01 10:00:00', 0, true),
(2, '2.0', 'index projects team id', 'SQL', 'V2__index_projects_team_id.sql', 504135306, 'deploy', '2024-01-02 22:14:08', 1873, true);});
	my $path = "$fix/flyway/db/migration";
	my ($rc, $stdout, $stderr) = mg(@conn, '-d', 'baselined', '--pending', $path);
	is($rc, 0, 'flyway baseline --pending: exit 0 (V1 and V1_1 under the baseline, V2 as 2.0)')
	  or diag("stdout:\n$stdout\nstderr:\n$stderr");
	is_deeply(findings($stdout), [ map { "$path/$_" } @{ $pending{flyway}[0] } ],
		'flyway baseline --pending: the findings of the pending migrations');
	like(last_line($stdout), summary_re(@{ $pending{flyway}[1] }), 'flyway baseline --pending: summary');
}

$node->stop;
done_testing();

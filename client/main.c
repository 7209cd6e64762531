/*-------------------------------------------------------------------------
 *
 * main.c
 *	  migration_guard check: the server's dry run of a migration directory,
 *	  for CI, reported like a compiler.
 *
 *	  migration_guard check [OPTION]... PATH...
 *
 * Connects as psql does (conninfo or URI, PG* variables, .pgpass), reads
 * the migrations in the order and transaction shape of the tool that wrote
 * them, has migration_guard.check() judge them on that database, and exits
 * 0 when nothing would be refused, 1 when something would be, and 2 on a
 * usage, connection or SQL error (a statement PostgreSQL would reject
 * included).
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  client/main.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <unistd.h>

#include "client.h"
#include "common/logging.h"
#include "getopt_long.h"

/* the long options that have no letter */
enum
{
	OPT_TRANSACTION = 256,
	OPT_PENDING,
	OPT_FAIL_ON,
	OPT_COLOR,
	OPT_SIZES,
	OPT_SIZES_FROM,
	OPT_HELP
};

static const char *progname;

/* An error that ends the run: exit status 2 */
void
fatal(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	pg_log_generic_v(PG_LOG_ERROR, PG_LOG_PRIMARY, fmt, ap);
	va_end(ap);
	exit(EXIT_TROUBLE);
}

/*
 * A query that failed: what we were doing, the server's primary message,
 * its DETAIL and HINT (never the query, which may be our whole script);
 * exit status 2
 */
void
fatal_query(PGconn *conn, const PGresult *res, const char *what)
{
	const char *primary = NULL;
	const char *detail = NULL;
	const char *hint = NULL;

	if (res != NULL)
	{
		primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
		hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	}
	if (primary == NULL)
		primary = PQerrorMessage(conn);	/* the connection's own trouble */
	pg_log_error("%s: %s", what, primary);
	if (detail != NULL)
		pg_log_error_detail("%s", detail);
	if (hint != NULL)
		pg_log_error_hint("%s", hint);
	exit(EXIT_TROUBLE);
}

/*
 * GitHub Actions reads workflow commands from stderr too: before the first
 * message there, stop them (report.c), if nothing has yet
 */
static void
before_message(void)
{
	stop_workflow_commands(stderr);
}

static void
usage(void)
{
	printf("%s checks database migrations with the migration_guard extension's dry run,\n"
		   "on a database that has the extension, before they are deployed.\n\n", progname);
	printf("Usage:\n  %s check [OPTION]... PATH...\n\n", progname);
	printf("PATH is a directory of migrations or a migration file; the files are checked\n"
		   "in order, as one script, each in the transaction its tool would give it.\n\n");
	printf("Options:\n");
	printf("  -t, --tool=TOOL          prisma, flyway, diesel, goose, dbmate or plain\n"
		   "                           (default: found from the directory)\n");
	printf("      --transaction=SHAPE  file (one transaction per file) or statement\n"
		   "                           (default: as the tool runs it; plain: file)\n");
	printf("      --pending            only the migrations the tool's history table\n"
		   "                           does not record as applied\n");
	printf("  -f, --format=FORMAT      text (default), json or github\n");
	printf("      --fail-on=LEVEL      block (default) or warn: exit 1 on warnings too\n");
	printf("      --color=WHEN         auto (default), always or never\n");
	printf("      --sizes=FILE         judge with the sizes in FILE, which\n"
		   "                           migration_guard.export_sizes() wrote elsewhere\n");
	printf("      --sizes-from=CONNSTR judge with the sizes of that database, read in a\n"
		   "                           read-only transaction (a pg_monitor role is enough)\n");
	printf("  -V, --version            output version information, then exit\n");
	printf("  -?, --help               show this help, then exit\n");
	printf("\nConnection options:\n");
	printf("  -d, --dbname=DBNAME      database name or connection string (conninfo, URI)\n");
	printf("  -h, --host=HOSTNAME      database server host or socket directory\n");
	printf("  -p, --port=PORT          database server port\n");
	printf("  -U, --username=USERNAME  database user name\n");
	printf("\nExit status: 0 nothing would be refused, 1 something would be (or warned,\n"
		   "with --fail-on=warn), 2 usage, connection or SQL error.\n");
}

static void
usage_error(const char *fmt,...) pg_attribute_printf(1, 2);

static void
usage_error(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	pg_log_generic_v(PG_LOG_ERROR, PG_LOG_PRIMARY, fmt, ap);
	va_end(ap);
	pg_log_error_hint("Try \"%s --help\" for more information.", progname);
	exit(EXIT_TROUBLE);
}

static PGconn *
connect_to(const char *dbname, const char *host, const char *port,
		   const char *user)
{
	/*
	 * UTF8 after dbname, which may be a connection string of its own: what
	 * the server says, and the columns it counts, are in UTF-8 whatever
	 * PGCLIENTENCODING says, as the files are and as JSON must be
	 */
	const char *keywords[] = {"host", "port", "user", "dbname",
	"fallback_application_name", "client_encoding", NULL};
	const char *values[] = {host, port, user, dbname, progname, "UTF8", NULL};
	PGconn	   *conn = PQconnectdbParams(keywords, values, true);

	if (conn == NULL)
		fatal("out of memory");
	if (PQstatus(conn) != CONNECTION_OK)
		fatal("%s", PQerrorMessage(conn));
	return conn;
}

/*
 * The sizes of another database (production), read in a read-only
 * transaction: migration_guard.export_sizes() there
 */
static char *
export_sizes(const char *conninfo)
{
	PGconn	   *conn = connect_to(conninfo, NULL, NULL, NULL);
	PGresult   *res;
	char	   *sizes;

	res = PQexec(conn, "BEGIN READ ONLY");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		fatal_query(conn, res,
					psprintf("could not start a read-only transaction in database \"%s\"",
							 PQdb(conn)));
	PQclear(res);
	res = PQexec(conn, "SELECT migration_guard.export_sizes()");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		fatal_query(conn, res,
					psprintf("could not read the sizes of database \"%s\"",
							 PQdb(conn)));
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
		fatal("migration_guard.export_sizes() returned no sizes in database \"%s\"",
			  PQdb(conn));
	sizes = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(conn);
	return sizes;
}

int
main(int argc, char **argv)
{
	static struct option long_options[] = {
		{"dbname", required_argument, NULL, 'd'},
		{"host", required_argument, NULL, 'h'},
		{"port", required_argument, NULL, 'p'},
		{"username", required_argument, NULL, 'U'},
		{"tool", required_argument, NULL, 't'},
		{"transaction", required_argument, NULL, OPT_TRANSACTION},
		{"pending", no_argument, NULL, OPT_PENDING},
		{"format", required_argument, NULL, 'f'},
		{"fail-on", required_argument, NULL, OPT_FAIL_ON},
		{"color", required_argument, NULL, OPT_COLOR},
		{"sizes", required_argument, NULL, OPT_SIZES},
		{"sizes-from", required_argument, NULL, OPT_SIZES_FROM},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0}
	};
	const char *dbname = NULL,
			   *host = NULL,
			   *port = NULL,
			   *user = NULL;
	Tool		tool = TOOL_AUTO;
	Shape		shape = SHAPE_TOOL;
	Format		format = FORMAT_TEXT;
	bool		pending = false;
	bool		fail_on_warn = false;
	const char *sizes_file = NULL;
	const char *sizes_conninfo = NULL;
	char	   *sizes = NULL;
	int			color = -1;		/* auto */
	MigrationList list = {0};
	Report		report = {0};
	PGconn	   *conn;
	int			c;
	int			i;

	pg_logging_init(argv[0]);
	pg_logging_set_pre_callback(before_message);
	progname = get_progname(argv[0]);

	/* -? and --help, -V and --version, before the command or right after */
	for (i = 1; i < argc && i <= 2; i++)
	{
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-?") == 0)
		{
			usage();
			exit(0);
		}
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0)
		{
			puts("migration_guard check 1.0");
			exit(0);
		}
		if (strcmp(argv[1], "check") != 0)
			break;
	}
	if (argc < 2 || strcmp(argv[1], "check") != 0)
		usage_error("the command must be \"check\"");

	/*
	 * The options follow the command: getopt_long() reads them as if the
	 * program had been called without it, and names the program in its
	 * complaints
	 */
	argv[1] = pg_strdup(progname);
	argv++;
	argc--;

	while ((c = getopt_long(argc, argv, "d:h:p:U:t:f:V", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'd':
				dbname = optarg;
				break;
			case 'h':
				host = optarg;
				break;
			case 'p':
				port = optarg;
				break;
			case 'U':
				user = optarg;
				break;
			case 't':
				tool = tool_lookup(optarg);
				if (tool == TOOL_AUTO)
					usage_error("unrecognized tool \"%s\": prisma, flyway, diesel, goose, dbmate or plain", optarg);
				break;
			case OPT_TRANSACTION:
				if (strcmp(optarg, "file") == 0)
					shape = SHAPE_FILE;
				else if (strcmp(optarg, "statement") == 0)
					shape = SHAPE_STATEMENT;
				else
					usage_error("--transaction must be \"file\" or \"statement\", not \"%s\"", optarg);
				break;
			case OPT_PENDING:
				pending = true;
				break;
			case 'f':
				if (strcmp(optarg, "text") == 0)
					format = FORMAT_TEXT;
				else if (strcmp(optarg, "json") == 0)
					format = FORMAT_JSON;
				else if (strcmp(optarg, "github") == 0)
					format = FORMAT_GITHUB;
				else
					usage_error("--format must be text, json or github, not \"%s\"", optarg);
				break;
			case OPT_FAIL_ON:
				if (strcmp(optarg, "warn") == 0)
					fail_on_warn = true;
				else if (strcmp(optarg, "block") == 0)
					fail_on_warn = false;
				else
					usage_error("--fail-on must be \"block\" or \"warn\", not \"%s\"", optarg);
				break;
			case OPT_COLOR:
				if (strcmp(optarg, "always") == 0)
					color = 1;
				else if (strcmp(optarg, "never") == 0)
					color = 0;
				else if (strcmp(optarg, "auto") == 0)
					color = -1;
				else
					usage_error("--color must be auto, always or never, not \"%s\"", optarg);
				break;
			case OPT_SIZES:
				sizes_file = optarg;
				break;
			case OPT_SIZES_FROM:
				sizes_conninfo = optarg;
				break;
			case 'V':
				puts("migration_guard check 1.0");
				exit(0);
			case OPT_HELP:
				usage();
				exit(0);
			default:
				/* getopt_long() has said which option, and why */
				pg_log_error_hint("Try \"%s --help\" for more information.", progname);
				exit(EXIT_TROUBLE);
		}
	}
	if (optind >= argc)
		usage_error("no migration directory or file specified");
	if (sizes_file && sizes_conninfo)
		usage_error("--sizes and --sizes-from cannot be used together");
	if (color < 0)
		color = format == FORMAT_TEXT && isatty(fileno(stdout)) &&
			getenv("NO_COLOR") == NULL;

	for (i = optind; i < argc; i++)
		add_path(&list, argv[i], tool, shape);

	if (sizes_file)
	{
		sizes = read_file(sizes_file);
		if (sizes == NULL)
			fatal("could not open file \"%s\": %m", sizes_file);
	}
	else if (sizes_conninfo)
		sizes = export_sizes(sizes_conninfo);

	conn = connect_to(dbname, host, port, user);
	if (pending)
		drop_applied(conn, &list);
	run_check(conn, &list, sizes, &report);
	PQfinish(conn);

	print_report(&report, format, color);
	if (report.count[SEV_ERROR] > 0)
		exit(EXIT_TROUBLE);
	if (report.count[SEV_BLOCK] > 0 ||
		(fail_on_warn && (report.count[SEV_WARN] > 0 || report.count[SEV_UNKNOWN] > 0)))
		exit(EXIT_REFUSED);
	return EXIT_NOTHING_REFUSED;
}

/*-------------------------------------------------------------------------
 *
 * run_check.c
 *	  Hand the migrations to the server's dry run as one script, and map
 *	  what it says back to files and lines.
 *
 * The server's migration_guard.check() runs the same code as the guard
 * itself.  The migrations are joined in their order into one script and
 * checked in its 'statement' shape, each migration that its tool runs in a
 * transaction between a BEGIN and a COMMIT of our own: so a table created
 * by an earlier file is known to the later ones, and is new only within
 * the transaction that created it, as when the tool runs them.  Each
 * migration starts on a line of its own, so the script's line of a
 * statement, less where its migration starts, is the file's line.  The
 * script is ours: what the server says of it is mapped back to the files,
 * and the script itself is never printed.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  client/run_check.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "client.h"
#include "common/logging.h"
#include "pqexpbuffer.h"

/* The columns asked of check(), in this order */
enum
{
	C_STATEMENT,
	C_LINE,
	C_COL,
	C_COMMAND,
	C_RELATION,
	C_LOCK_MODE,
	C_TABLE_BYTES,
	C_EST_ROWS,
	C_RULE,
	C_VERDICT,
	C_MESSAGE,
	C_DETAIL,
	C_HINT,
	C_RECIPE,
	C_SIZE,
	C_PREDICTED
};

static const char *const check_query =
"SELECT statement, line, col, command, relation::text, lock_mode,"
"       table_bytes, est_rows, rule, verdict, message, detail, hint, recipe,"
"       pg_size_pretty(table_bytes), predicted_seconds"
"  FROM migration_guard.check($1, 'statement', $2::jsonb)";

static int
count_lines(const char *text)
{
	int			n = 0;

	for (; *text; text++)
		if (*text == '\n')
			n++;
	return n;
}

/* The script: each migration on lines of its own, wrapped as its tool runs it */
static char *
build_script(MigrationList *list)
{
	PQExpBufferData buf;
	int			line = 1;
	int			i;

	initPQExpBuffer(&buf);
	for (i = 0; i < list->n; i++)
	{
		Migration  *m = &list->items[i];
		size_t		len = strlen(m->text);

		if (m->in_transaction)
		{
			appendPQExpBufferStr(&buf, "BEGIN;\n");
			line++;
		}
		m->script_line = line;
		appendPQExpBufferStr(&buf, m->text);
		line += count_lines(m->text);
		if (len == 0 || m->text[len - 1] != '\n')
		{
			appendPQExpBufferChar(&buf, '\n');
			line++;
		}
		m->script_end = line;
		/* ends a last statement written without its semicolon */
		appendPQExpBufferStr(&buf, ";\n");
		line++;
		if (m->in_transaction)
		{
			appendPQExpBufferStr(&buf, "COMMIT;\n");
			line++;
		}
	}
	if (PQExpBufferBroken(&buf))
		fatal("out of memory");
	return buf.data;
}

/*
 * The migration holding the script's line, and the file's line; or NULL.
 * The line of the ";" that ends a migration (script_end) is its last line:
 * a syntax error in a last statement written without its semicolon is
 * found there, at the end of the file (*at_end).
 */
static Migration *
locate(MigrationList *list, int script_line, int *file_line, bool *at_end)
{
	int			i;

	for (i = 0; i < list->n; i++)
	{
		Migration  *m = &list->items[i];

		if (script_line >= m->script_line && script_line <= m->script_end)
		{
			*at_end = script_line == m->script_end;
			if (*at_end && m->script_end > m->script_line)
				script_line--;
			*file_line = script_line - m->script_line + m->first_line;
			return m;
		}
	}
	return NULL;
}

/* The characters of the last line of text, not counting its newline */
static int
last_line_chars(const char *text, int encoding)
{
	size_t		len = strlen(text);
	const char *start;
	const char *p;
	int			chars = 0;

	if (len > 0 && text[len - 1] == '\n')
		len--;
	for (start = text + len; start > text && start[-1] != '\n'; start--)
		;
	for (p = start; p < text + len; p += PQmblen(p, encoding))
		chars++;
	return chars;
}

static Finding *
new_finding(Report *report)
{
	Finding    *f;

	if (report->n == report->cap)
	{
		report->cap = report->cap ? report->cap * 2 : 16;
		report->items = pg_realloc(report->items, sizeof(Finding) * report->cap);
	}
	f = &report->items[report->n++];
	memset(f, 0, sizeof(Finding));
	f->table_bytes = -1;
	f->predicted_seconds = -1;
	f->est_rows = -1;
	return f;
}

static char *
value_or_null(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : pg_strdup(PQgetvalue(res, row, col));
}

static long long
number_or_minus(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? -1 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/*
 * A syntax error: the server gives its position in the script, in
 * characters; turn it into the file, line and column
 */
static bool
report_script_error(PGconn *conn, PGresult *res, MigrationList *list,
					const char *script, Report *report)
{
	const char *pos = PQresultErrorField(res, PG_DIAG_INTERNAL_POSITION);
	const char *p = script;
	int			chars;
	int			line = 1;
	int			col = 1;
	int			file_line;
	bool		at_end;
	Migration  *m;
	Finding    *f;

	if (pos == NULL)
		return false;
	for (chars = atoi(pos) - 1; chars > 0 && *p; chars--)
	{
		if (*p == '\n')
			line++, col = 1;
		else
			col++;
		p += PQmblen(p, PQclientEncoding(conn));
	}
	m = locate(list, line, &file_line, &at_end);
	if (m == NULL)
		return false;
	f = new_finding(report);
	f->migration = m;
	f->line = file_line;
	f->column = at_end ? last_line_chars(m->text, PQclientEncoding(conn)) + 1 : col;
	f->severity = SEV_ERROR;
	f->command = pg_strdup("");
	f->message = pg_strdup(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	if (PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL))
		f->detail = pg_strdup(PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL));
	if (PQresultErrorField(res, PG_DIAG_MESSAGE_HINT))
		f->hint = pg_strdup(PQresultErrorField(res, PG_DIAG_MESSAGE_HINT));
	report->count[SEV_ERROR]++;
	return true;
}

static Severity
severity_of(const char *verdict)
{
	if (strcmp(verdict, "block") == 0)
		return SEV_BLOCK;
	if (strcmp(verdict, "warn") == 0)
		return SEV_WARN;
	if (strcmp(verdict, "unknown") == 0)
		return SEV_UNKNOWN;
	return SEV_ERROR;
}

/*
 * Check the migrations; the findings go into report.  Fatal when the
 * server could not check them.
 */
void
run_check(PGconn *conn, MigrationList *list, const char *sizes, Report *report)
{
	char	   *script = build_script(list);
	const char *params[2] = {script, sizes};
	PGresult   *res;
	int		   *seen = pg_malloc0(sizeof(int) * (list->n + 1));
	int		   *counted = pg_malloc0(sizeof(int) * (list->n + 1));
	int			row;

	res = PQexec(conn, "SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'migration_guard'");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		fatal_query(conn, res, "could not look for the extension");
	if (PQntuples(res) == 0)
	{
		pg_log_error("extension \"migration_guard\" is not installed in database \"%s\"",
					 PQdb(conn));
		pg_log_error_hint("Have a superuser run CREATE EXTENSION migration_guard in that database, with the library in shared_preload_libraries.");
		exit(EXIT_TROUBLE);
	}
	PQclear(res);

	report->files = list->n;
	res = PQexecParams(conn, check_query, 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		if (report_script_error(conn, res, list, script, report))
			return;
		fatal_query(conn, res, "could not check the migrations");
	}

	for (row = 0; row < PQntuples(res); row++)
	{
		int			stmt = atoi(PQgetvalue(res, row, C_STATEMENT));
		int			file_line;
		bool		at_end;
		Migration  *m = locate(list, atoi(PQgetvalue(res, row, C_LINE)),
							   &file_line, &at_end);
		int			mi;
		Finding    *f;

		if (m == NULL || at_end)
			continue;			/* our BEGIN, COMMIT or ";" */
		mi = (int) (m - list->items);
		if (seen[mi] != stmt)
		{
			seen[mi] = stmt;
			counted[mi]++;
			report->statements++;
		}
		if (strcmp(PQgetvalue(res, row, C_VERDICT), "ok") == 0)
			continue;

		f = new_finding(report);
		f->migration = m;
		f->line = file_line;
		f->column = atoi(PQgetvalue(res, row, C_COL));
		f->statement = counted[mi];
		f->severity = severity_of(PQgetvalue(res, row, C_VERDICT));
		f->rule = value_or_null(res, row, C_RULE);
		f->command = pg_strdup(PQgetvalue(res, row, C_COMMAND));
		f->relation = value_or_null(res, row, C_RELATION);
		f->lock_mode = value_or_null(res, row, C_LOCK_MODE);
		f->table_bytes = number_or_minus(res, row, C_TABLE_BYTES);
		f->est_rows = number_or_minus(res, row, C_EST_ROWS);
		f->size = value_or_null(res, row, C_SIZE);
		f->message = value_or_null(res, row, C_MESSAGE);
		f->detail = value_or_null(res, row, C_DETAIL);
		f->hint = value_or_null(res, row, C_HINT);
		f->recipe = value_or_null(res, row, C_RECIPE);
		f->predicted_seconds = PQgetisnull(res, row, C_PREDICTED) ? -1 :
			strtod(PQgetvalue(res, row, C_PREDICTED), NULL);
		if (f->message == NULL)
			f->message = pg_strdup("");
		report->count[f->severity]++;
	}
	PQclear(res);

	/* say whose sizes judged it */
	if (sizes != NULL)
	{
		res = PQexecParams(conn,
						   "SELECT pg_catalog.format('the sizes of database %s exported at %s',"
						   "              $1::jsonb->>'database', $1::jsonb->>'exported_at')",
						   1, NULL, &sizes, NULL, NULL, 0);
		if (PQresultStatus(res) == PGRES_TUPLES_OK && !PQgetisnull(res, 0, 0))
			report->sizes_from = pg_strdup(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
}

/*-------------------------------------------------------------------------
 *
 * check.c
 *	  migration_guard.check(sql): the dry run of a migration script.
 *
 * The script is parsed with PostgreSQL's raw parser and every statement is
 * put through judge_statement(), the same path the hook takes, without
 * executing anything and without taking a lock on any user relation.
 * Relations created by earlier statements of the script count as new.
 *
 * Every row says where its statement starts in the script (line and
 * column, 1-based, in characters, as editors count) and has one of five
 * verdicts: ok, warn and block as the server would judge it; error when
 * PostgreSQL would raise an error for it (the row's message is that
 * error); unknown for code check() cannot see into (a DO block, CALL), whose
 * statements the server judges one by one when they run.
 *
 * The script runs in the transaction shape its tool gives it: 'file', one
 * transaction for the whole file (Prisma, Flyway, Rails, Django, psql -1),
 * or 'statement', each statement on its own (psql, goose and dbmate without
 * a transaction); the script's own BEGIN and COMMIT group statements in
 * either, and after its COMMIT the rest runs on its own.  What a
 * transaction holds ends with it: the ACCESS EXCLUSIVE locks that
 * exclusive_lock_held speaks of, the script's SET LOCAL.  A statement that
 * PostgreSQL runs only outside a transaction block is an error inside one.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/check.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "parser/parser.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "migration_guard.h"
#include "guarded.h"

#define CHECK_COLS 19
#define COL_LINE 15
#define COL_COLUMN 16
#define COL_RECIPE 17
#define COL_PREDICTED 18

PG_FUNCTION_INFO_V1(mg_check);

/*
 * Report a syntax error's position inside the script, not inside the query
 * that called check(), as SPI does for the queries of a function.
 */
static void
script_error_callback(void *arg)
{
	int			pos = geterrposition();

	if (pos > 0)
	{
		errposition(0);
		internalerrposition(pos);
		internalerrquery((const char *) arg);
	}
}

static const char *const verdict_names[] = {"ok", "warn", "block"};

/*
 * Where a statement starts in the script, 1-based, counted as an editor
 * does: the script is walked once, from one statement to the next, so
 * that the cost stays linear in its size.
 */
typedef struct ScriptPosition
{
	const char *script;
	int			len;			/* its length in bytes */
	int			offset;			/* bytes read so far */
	int			line;			/* line of script[offset] */
	int			column;			/* characters before it on that line */
	int			stmt_line;		/* the current statement's start */
	int			stmt_column;
} ScriptPosition;

/*
 * The statement's first token, after the blanks and comments that the
 * parser counts as part of it (a statement starts after the semicolon
 * that ends the one before).
 */
static int
skip_blanks_and_comments(const char *s, int pos, int end)
{
	while (pos < end)
	{
		if (isspace((unsigned char) s[pos]))
			pos++;
		else if (s[pos] == '-' && pos + 1 < end && s[pos + 1] == '-')
		{
			while (pos < end && s[pos] != '\n')
				pos++;
		}
		else if (s[pos] == '/' && pos + 1 < end && s[pos + 1] == '*')
		{
			int			depth = 1;	/* PostgreSQL's comments nest */

			pos += 2;
			while (pos < end && depth > 0)
			{
				if (s[pos] == '/' && pos + 1 < end && s[pos + 1] == '*')
					depth++, pos += 2;
				else if (s[pos] == '*' && pos + 1 < end && s[pos + 1] == '/')
					depth--, pos += 2;
				else
					pos++;
			}
		}
		else
			break;
	}
	return pos;
}

static void
advance_position(ScriptPosition *sp, RawStmt *rs)
{
	int			len = sp->len;
	int			start = rs->stmt_location < 0 ? sp->offset : rs->stmt_location;
	int			end = rs->stmt_len > 0 ? Min(start + rs->stmt_len, len) : len;

	start = skip_blanks_and_comments(sp->script, Max(start, sp->offset), end);
	while (sp->offset < start)
	{
		if (sp->script[sp->offset] == '\n')
		{
			sp->line++;
			sp->column = 0;
			sp->offset++;
		}
		else
		{
			sp->column++;
			sp->offset += pg_mblen(sp->script + sp->offset);
		}
	}
	sp->stmt_line = sp->line;
	sp->stmt_column = sp->column + 1;
}

/* The columns every row has: statement number, command and position */
static void
init_row(Datum *values, bool *nulls, const ScriptRow *row)
{
	memset(nulls, true, sizeof(bool) * CHECK_COLS);
	values[0] = Int32GetDatum(row->stmtno);
	values[1] = CStringGetTextDatum(row->command);
	values[COL_LINE] = Int32GetDatum(row->line);
	values[COL_COLUMN] = Int32GetDatum(row->column);
	nulls[0] = nulls[1] = nulls[COL_LINE] = nulls[COL_COLUMN] = false;
}

static void
put_row(ReturnSetInfo *rsinfo, const ScriptRow *row, Finding *f)
{
	Datum		values[CHECK_COLS];
	bool		nulls[CHECK_COLS];
	RelEffect  *eff = f ? f->effect : NULL;

	init_row(values, nulls, row);
	values[9] = CStringGetTextDatum(verdict_names[f ? f->verdict : VERDICT_OK]);
	nulls[9] = false;

	if (eff != NULL)
	{
		if (OidIsValid(eff->relid))
		{
			values[2] = ObjectIdGetDatum(eff->relid);
			nulls[2] = false;
			values[6] = Int64GetDatum(f->size.bytes);
			nulls[6] = false;
			values[7] = Int64GetDatum(f->size.rows);
			nulls[7] = false;
		}
		if (OidIsValid(eff->relid) && !eff->is_new)
		{
			/* the live view: would it wait right now, and on whom */
			Datum	   *pids = palloc(sizeof(Datum) * (list_length(eff->holders) + 1));
			int			n = 0;
			ListCell   *lc;

			foreach(lc, eff->holders)
				pids[n++] = Int32GetDatum(((LockHolder *) lfirst(lc))->pid);
			values[13] = BoolGetDatum(n > 0);
			values[14] = PointerGetDatum(construct_array(pids, n, INT4OID, sizeof(int32),
														 true, TYPALIGN_INT));
			nulls[13] = nulls[14] = false;
		}
		if (f->hold.kind != WORK_NONE)
		{
			values[COL_PREDICTED] = Float8GetDatum(f->hold.predicted_ms / 1000.0);
			nulls[COL_PREDICTED] = false;
		}
		values[3] = CStringGetTextDatum(lock_mode_name(eff->lockmode));
		values[4] = BoolGetDatum(eff->rewrite);
		values[5] = BoolGetDatum(eff->scan);
		nulls[3] = nulls[4] = nulls[5] = false;
		if (f->rule >= 0)
		{
			values[8] = CStringGetTextDatum(rule_name(f->rule));
			/* as the server's NOTICE says it */
			values[10] = CStringGetTextDatum(f->allowed ?
											 psprintf("%s (allowed by migration_guard.allow)", f->message) :
											 f->message);
			values[11] = CStringGetTextDatum(f->detail);
			values[12] = CStringGetTextDatum(f->hint);
			nulls[8] = nulls[10] = nulls[11] = nulls[12] = false;
			if (f->recipe != NULL)
			{
				values[COL_RECIPE] = CStringGetTextDatum(f->recipe);
				nulls[COL_RECIPE] = false;
			}
		}
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* One step of the dry run that may raise PostgreSQL's error */
typedef struct ScriptStep
{
	Node	   *stmt;
	const char *sql;
	ScriptState *script;
	List	   *findings;		/* what judging it found */
	bool		trial;			/* undo it even when it succeeds */
} ScriptStep;

static void
judge_step(ScriptStep *step)
{
	/* what PostgreSQL would refuse this user is its error, not ours */
	(void) authorize_statement(step->stmt, true);
	step->findings = judge_statement(step->stmt, step->sql, step->script);
}

/*
 * A SET or RESET of a setting the guard reads (its own, lock_timeout,
 * search_path) takes effect for the statements after it, as when the
 * script runs, with the same privilege checks: a superuser-only setting
 * in a script checked by an ordinary role is that role's error.  mg_check()
 * undoes every change when the dry run ends.  Others (a role, a
 * transaction's isolation) are left alone.
 */
static bool
script_applies_setting(VariableSetStmt *stmt)
{
	if (stmt->kind == VAR_RESET_ALL || stmt->kind == VAR_SET_MULTI ||
		stmt->name == NULL)
		return false;
	return strncmp(stmt->name, "migration_guard.", strlen("migration_guard.")) == 0 ||
		strcmp(stmt->name, "lock_timeout") == 0 ||
		strcmp(stmt->name, "search_path") == 0;
}

static void
set_step(ScriptStep *step)
{
	ExecSetVariableStmt((VariableSetStmt *) step->stmt, false);
}

/*
 * Apply a SET that set_step() has tried: a plain SET or RESET as the
 * server would, and a SET LOCAL at a GUC level of its own, restored when
 * end_transaction() closes the script's transaction (PostgreSQL undoes
 * SET LOCAL only at the end of a top-level transaction, which a dry run
 * never reaches).
 */
static void
apply_setting(VariableSetStmt *stmt)
{
	if (!stmt->is_local)
	{
		ExecSetVariableStmt(stmt, false);
		return;
	}
	(void) NewGUCNestLevel();
	(void) set_config_option(stmt->name,
							 stmt->kind == VAR_SET_VALUE ? ExtractSetVariableArgs(stmt) : NULL,
							 superuser() ? PGC_SUSET : PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
}

static bool
ends_dry_run(int sqlerrcode)
{
	/*
	 * A cancel or statement_timeout is the caller's, not the statement's: it
	 * ends the whole dry run.
	 */
	return sqlerrcode == ERRCODE_QUERY_CANCELED;
}

typedef struct StepCall
{
	void		(*fn) (ScriptStep *);
	ScriptStep *step;
} StepCall;

static void
call_step(void *arg)
{
	StepCall   *call = (StepCall *) arg;

	call->fn(call->step);
}

/*
 * A statement that PostgreSQL itself would reject (a default calling a
 * function the script creates earlier, a bad type modifier, a setting this
 * role may not change) must not end the dry run of the whole script: run
 * the step in a subtransaction and turn its error into that statement's
 * row.  Returns false, with the error, if it failed.
 */
static bool
in_subtransaction(void (*fn) (ScriptStep *), ScriptStep *step, ErrorData **error)
{
	StepCall	call = {fn, step};
	ErrorData  *edata = mg_in_subtransaction(call_step, &call, step->trial,
											 ends_dry_run);

	if (edata == NULL)
		return true;
	*error = edata;
	step->findings = NIL;
	return false;
}

/*
 * INSERT, UPDATE or DELETE on a large table that an earlier statement of
 * the script locked in ACCESS EXCLUSIVE mode (a script runs as one
 * transaction in most migration tools).
 */
static List *
judge_script_dml(Node *stmt, const char *command, ScriptState *script)
{
	RangeVar   *rv = IsA(stmt, InsertStmt) ? ((InsertStmt *) stmt)->relation :
	IsA(stmt, UpdateStmt) ? ((UpdateStmt *) stmt)->relation :
	((DeleteStmt *) stmt)->relation;
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);
	HeldLock   *held = OidIsValid(relid) ? held_locks_find(script->held, relid) : NULL;

	if (held == NULL)
		return NIL;
	return list_make1(judge_held_lock(held, command));
}

/*
 * The row of a statement whose inspection failed: PostgreSQL's error, which
 * the statement will meet when it runs.
 */
static void
error_row(ScriptRow *row, const char *error)
{
	row->verdict = "error";
	row->message = error;
	row->detail = "PostgreSQL would raise this error when the statement runs; nothing was judged.";
}

/* Where the script's statements run: see the header comment */
typedef struct ScriptTransaction
{
	bool		file;			/* the tool's one transaction is still open */
	bool		block;			/* inside the script's own BEGIN ... COMMIT */
	int			nestlevel;		/* GUC level of the current transaction */
} ScriptTransaction;

/*
 * The end of a transaction of the script: its locks are released and its
 * SET LOCAL undone (its SET stays, as on the server).
 */
static void
end_transaction(ScriptTransaction *tx, ScriptState *script)
{
	script->held = NIL;
	inspect_script_commit(script);
	AtEOXact_GUC(true, tx->nestlevel);
	tx->nestlevel = NewGUCNestLevel();
	tx->block = false;
}

/* Would the server refuse the statement of these findings? */
static bool
refused(List *findings)
{
	ListCell   *lc;

	foreach(lc, findings)
	{
		if (((Finding *) lfirst(lc))->verdict == VERDICT_BLOCK)
			return true;
	}
	return false;
}

/* The row of code check() cannot see into: the server judges it as it runs */
static void
unknown_row(ScriptRow *row, const char *message, const char *detail,
			const char *hint)
{
	row->verdict = "unknown";
	row->message = message;
	row->detail = detail;
	row->hint = hint;
}

/*
 * check()'s rows for one statement: one per finding, or one saying ok, or
 * the error or unknown row
 */
static void
put_rows(const ScriptRow *row, void *arg)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) arg;
	ListCell   *lc;

	if (row->verdict != NULL)
	{
		Datum		values[CHECK_COLS];
		bool		nulls[CHECK_COLS];

		init_row(values, nulls, row);
		values[9] = CStringGetTextDatum(row->verdict);
		values[10] = CStringGetTextDatum(row->message);
		values[11] = CStringGetTextDatum(row->detail);
		nulls[9] = nulls[10] = nulls[11] = false;
		if (row->hint != NULL)
		{
			values[12] = CStringGetTextDatum(row->hint);
			nulls[12] = false;
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		return;
	}
	if (row->findings == NIL)
		put_row(rsinfo, row, NULL);
	foreach(lc, row->findings)
		put_row(rsinfo, row, (Finding *) lfirst(lc));
}

/*
 * migration_guard.check(sql text, transaction text, sizes jsonb): one row
 * per statement, affected relation and finding; a statement with nothing
 * to report gives one row with rule NULL.
 */
Datum
mg_check(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		file = true;

	mg_init_materialized_srf(fcinfo);
	if (PG_ARGISNULL(0))
		PG_RETURN_VOID();
	if (PG_NARGS() > 1 && !PG_ARGISNULL(1))
	{
		char	   *shape = text_to_cstring(PG_GETARG_TEXT_PP(1));

		if (strcmp(shape, "statement") == 0)
			file = false;
		else if (strcmp(shape, "file") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unrecognized transaction shape \"%s\"", shape),
					 errhint("Use 'file' (one transaction for the whole script) or 'statement' (each statement on its own).")));
	}
	check_script(text_to_cstring(PG_GETARG_TEXT_PP(0)), file,
				 PG_NARGS() > 2 && !PG_ARGISNULL(2) ? PG_GETARG_DATUM(2) : (Datum) 0,
				 put_rows, rsinfo);
	return (Datum) 0;
}

/*
 * The dry run itself: each statement of the script judged in order, its
 * row handed to "emit".  check() makes result rows of them, plan() steps.
 * "file" is the transaction shape (see the header comment); "sizes" is
 * another server's export_sizes(), or 0.
 */
void
check_script(const char *script_sql, bool file, Datum sizes,
			 ScriptRowCallback emit, void *arg)
{
	List	   *raw;
	ListCell   *lc;
	ScriptState script = {0};
	ScriptPosition sp = {0};
	ScriptTransaction tx = {0};
	int			stmtno = 0;
	int			nestlevel;
	ErrorContextCallback errcallback;

	tx.file = file;
	/* another server's sizes (export_sizes()), for the relations they name */
	if (sizes != (Datum) 0)
	{
		script.sizes = given_sizes_load(sizes);
		script.rates = given_rates_load(sizes);
	}

	/* Syntax errors surface as PostgreSQL's own, with their position */
	errcallback.callback = script_error_callback;
	errcallback.arg = (void *) script_sql;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	raw = raw_parser(script_sql, RAW_PARSE_DEFAULT);
	error_context_stack = errcallback.previous;
	sp.script = script_sql;
	sp.len = strlen(script_sql);
	sp.line = 1;

	/* the script's own SETs, undone at the end (see script_applies_setting) */
	nestlevel = NewGUCNestLevel();
	tx.nestlevel = NewGUCNestLevel();

	foreach(lc, raw)
	{
		RawStmt    *rs = lfirst_node(RawStmt, lc);
		const char *command = GetCommandTagName(CreateCommandTag(rs->stmt));
		List	   *findings = NIL;
		bool		failed = false;
		bool		unknown = false;
		char	   *error_text;
		const char *outside_only = outside_transaction_only(rs->stmt);
		ScriptRow	row = {0};

		CHECK_FOR_INTERRUPTS();
		stmtno++;
		advance_position(&sp, rs);
		row.stmtno = stmtno;
		row.command = command;
		row.line = sp.stmt_line;
		row.column = sp.stmt_column;
		row.stmt = rs->stmt;
		row.script = script_sql;
		row.sql = sql_cut_statement(script_sql, rs->stmt_location, rs->stmt_len);
		if (IsA(rs->stmt, TransactionStmt))
		{
			TransactionStmtKind kind = ((TransactionStmt *) rs->stmt)->kind;

			if (kind == TRANS_STMT_BEGIN || kind == TRANS_STMT_START)
				tx.block = true;
			else if (kind == TRANS_STMT_COMMIT || kind == TRANS_STMT_ROLLBACK ||
					 kind == TRANS_STMT_PREPARE)
			{
				/* the tool's transaction too: the rest runs on its own */
				end_transaction(&tx, &script);
				tx.file = false;
			}
			emit(&row, arg);
			continue;
		}
		if (IsA(rs->stmt, LockStmt) && !tx.file && !tx.block)
		{
			error_row(&row, "LOCK TABLE can only be used in transaction blocks");
			emit(&row, arg);
			end_transaction(&tx, &script);
			continue;
		}
		if (outside_only != NULL && (tx.file || tx.block))
		{
			error_row(&row, psprintf("%s cannot run inside a transaction block",
									 outside_only));
			emit(&row, arg);
			continue;
		}
		if (IsA(rs->stmt, DoStmt) || IsA(rs->stmt, CallStmt))
		{
			unknown_row(&row,
						psprintf("check() cannot see the statements that this %s runs",
								 command),
						"The server judges each statement it runs, as it runs, and may refuse one of them.",
						"Write the statements out in the migration to have them checked here.");
			emit(&row, arg);
			inspect_note_script(rs->stmt, &script);
			if (!tx.file && !tx.block)
				end_transaction(&tx, &script);
			continue;
		}
		if ((error_text = inspect_script_create_error(rs->stmt, &script)) != NULL)
		{
			error_row(&row, error_text);
			emit(&row, arg);
			if (!tx.file && !tx.block)
				end_transaction(&tx, &script);
			continue;
		}
		if (inspect_is_guarded(rs->stmt, true) ||
			(IsA(rs->stmt, VariableSetStmt) &&
			 script_applies_setting((VariableSetStmt *) rs->stmt)))
		{
			ScriptStep	step = {rs->stmt, NULL, &script, NIL, false};
			ErrorData  *error = NULL;

			if (IsA(rs->stmt, VariableSetStmt))
			{
				/* PostgreSQL's error, if it has one, from a trial */
				step.trial = true;
				failed = !in_subtransaction(set_step, &step, &error);
				if (!failed)
					apply_setting((VariableSetStmt *) rs->stmt);
			}
			else
			{
				step.sql = row.sql;
				failed = !in_subtransaction(judge_step, &step, &error);
			}
			/*
			 * A function an earlier statement creates is not in the catalog
			 * yet: whether it rewrites depends on its body (an SQL function
			 * inlined to a constant does not), which only the server sees
			 */
			unknown = failed &&
				error->sqlerrcode == ERRCODE_UNDEFINED_FUNCTION &&
				(script.made_functions || script.opaque);
			if (unknown)
				unknown_row(&row,
							psprintf("check() cannot judge this %s: it calls a function that an earlier statement of the script creates",
									 command),
							"Whether the statement rewrites or scans the table depends on that function's body and volatility, which are not in the catalog until the script runs. The server judges the statement when it runs.",
							"Create the function in an earlier migration to have this statement checked here.");
			else if (failed)
				error_row(&row, error->message);
			findings = step.findings;
		}
		else if (IsA(rs->stmt, InsertStmt) || IsA(rs->stmt, UpdateStmt) ||
				 IsA(rs->stmt, DeleteStmt))
			findings = judge_script_dml(rs->stmt, command, &script);
		/*
		 * A statement that fails changes nothing.  Nor does one refused in
		 * a transaction of its own; in a longer one the server runs nothing
		 * after it, and the statements after are judged as if it ran (once
		 * allowed or made safe, it will).
		 */
		if (!(failed && !unknown) &&
			!(refused(findings) && !tx.file && !tx.block))
		{
			held_locks_note(findings, &script.held);
			inspect_note_script(rs->stmt, &script);
		}

		row.findings = findings;
		emit(&row, arg);

		/* a statement outside any transaction block is one of its own */
		if (!tx.file && !tx.block)
			end_transaction(&tx, &script);
	}
	AtEOXact_GUC(true, tx.nestlevel);
	AtEOXact_GUC(false, nestlevel);
}

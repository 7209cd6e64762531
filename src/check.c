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
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/check.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "fmgr.h"
#include "funcapi.h"
#include "parser/parser.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "migration_guard.h"
#include "guarded.h"

#define CHECK_COLS 15

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

static void
put_row(ReturnSetInfo *rsinfo, int stmtno, const char *command, Finding *f)
{
	Datum		values[CHECK_COLS];
	bool		nulls[CHECK_COLS];
	RelEffect  *eff = f ? f->effect : NULL;

	memset(nulls, true, sizeof(nulls));
	values[0] = Int32GetDatum(stmtno);
	nulls[0] = false;
	values[1] = CStringGetTextDatum(command);
	nulls[1] = false;
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
		values[3] = CStringGetTextDatum(lock_mode_name(eff->lockmode));
		values[4] = BoolGetDatum(eff->rewrite);
		values[5] = BoolGetDatum(eff->scan);
		nulls[3] = nulls[4] = nulls[5] = false;
		if (f->rule >= 0)
		{
			values[8] = CStringGetTextDatum(rule_name(f->rule));
			values[10] = CStringGetTextDatum(f->message);
			values[11] = CStringGetTextDatum(f->detail);
			values[12] = CStringGetTextDatum(f->hint);
			nulls[8] = nulls[10] = nulls[11] = nulls[12] = false;
		}
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * A statement that PostgreSQL itself would reject (a default calling a
 * function the script creates earlier, a bad type modifier) must not end
 * the dry run of the whole script: judge it in a subtransaction and turn
 * its error into that statement's row.
 */
static List *
judge_in_subtransaction(Node *stmt, const char *sql, ScriptState *script,
						char **error)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	List	   *findings = NIL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		/* what PostgreSQL would refuse this user is its error, not ours */
		(void) authorize_statement(stmt, true);
		findings = judge_statement(stmt, sql, script);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;

		/*
		 * A cancel or statement_timeout is the caller's, not the
		 * statement's: it ends the whole dry run.
		 */
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
		*error = edata->message;
		findings = NIL;
	}
	PG_END_TRY();
	return findings;
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

/* The row of a statement whose inspection failed: it would fail too */
static void
put_error_row(ReturnSetInfo *rsinfo, int stmtno, const char *command,
			  const char *error)
{
	Datum		values[CHECK_COLS];
	bool		nulls[CHECK_COLS];

	memset(nulls, true, sizeof(nulls));
	values[0] = Int32GetDatum(stmtno);
	values[1] = CStringGetTextDatum(command);
	values[9] = CStringGetTextDatum("ok");
	values[10] = CStringGetTextDatum(psprintf("could not inspect statement: %s", error));
	values[11] = CStringGetTextDatum("PostgreSQL would raise this error when the statement runs; nothing was judged.");
	nulls[0] = nulls[1] = nulls[9] = nulls[10] = nulls[11] = false;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * migration_guard.check(sql text): one row per statement, affected
 * relation and finding; a statement with nothing to report gives one row
 * with rule NULL.
 */
Datum
mg_check(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *script_sql;
	List	   *raw;
	ListCell   *lc;
	ScriptState script = {NULL, NIL, NIL};
	int			stmtno = 0;
	ErrorContextCallback errcallback;

	mg_init_materialized_srf(fcinfo);
	if (PG_ARGISNULL(0))
		PG_RETURN_VOID();
	script_sql = text_to_cstring(PG_GETARG_TEXT_PP(0));

	/* Syntax errors surface as PostgreSQL's own, with their position */
	errcallback.callback = script_error_callback;
	errcallback.arg = script_sql;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	raw = raw_parser(script_sql, RAW_PARSE_DEFAULT);
	error_context_stack = errcallback.previous;

	foreach(lc, raw)
	{
		RawStmt    *rs = lfirst_node(RawStmt, lc);
		const char *command = GetCommandTagName(CreateCommandTag(rs->stmt));
		List	   *findings = NIL;
		ListCell   *fc;
		bool		failed = false;

		CHECK_FOR_INTERRUPTS();
		stmtno++;
		if (inspect_is_guarded(rs->stmt, true))
		{
			char	   *error = NULL;

			findings = judge_in_subtransaction(rs->stmt,
											   sql_cut_statement(script_sql,
																 rs->stmt_location,
																 rs->stmt_len),
											   &script, &error);
			if (error != NULL)
			{
				put_error_row(rsinfo, stmtno, command, error);
				failed = true;
			}
		}
		else if (IsA(rs->stmt, InsertStmt) || IsA(rs->stmt, UpdateStmt) ||
				 IsA(rs->stmt, DeleteStmt))
			findings = judge_script_dml(rs->stmt, command, &script);
		held_locks_note(findings, &script.held);
		inspect_note_script(rs->stmt, &script);

		if (findings == NIL && !failed)
			put_row(rsinfo, stmtno, command, NULL);
		foreach(fc, findings)
			put_row(rsinfo, stmtno, command, (Finding *) lfirst(fc));
	}
	return (Datum) 0;
}

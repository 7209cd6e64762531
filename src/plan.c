/*-------------------------------------------------------------------------
 *
 * plan.c
 *	  migration_guard.plan(sql): a naive migration script turned into the
 *	  ordered steps of a safe plan.
 *
 * The script is judged by check_script(), the path of check() and of the
 * hook.  A statement the guard lets through is a step as written.  One it
 * would refuse or warn about becomes the steps of its safe form
 * (plan_steps.c), built from its parse tree and the catalog: each step has
 * its phase (expand, backfill, constrain, switch, contract), the SQL and
 * its transaction shape, a query that verifies it and the SQL that undoes
 * it.  The steps are ordered by phase, statements keeping their order
 * within a phase; after a step that renames, swaps or drops, the later
 * statements stay after it, since they may use the new name or the freed
 * one.  The column backfills of one table are merged into one backfill()
 * call.
 *
 * The plan is then judged itself, as a script of its own, by the same
 * path: that gives each step its lock, what the lock holds it for and the
 * table's size, and a step the guard would still refuse says so in its
 * note (a planner bug, which the proof in test/t/014_plan.pl would find).
 *
 * What the guard cannot plan (a DO block, a rewrite with no online form)
 * is a step of its own, the statement as written, with a note saying why.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/plan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"

#include "migration_guard.h"
#include "pg_compat.h"
#include "plan_int.h"

PG_FUNCTION_INFO_V1(mg_plan);

/* the columns of migration_guard.plan(), in migration_guard--1.0.sql */
#define PLAN_COLS 13

static const char *const phase_names[] = {
	"expand", "backfill", "constrain", "switch", "contract"
};

/* Hazards the plan answers, as (Finding, Hazard) pairs */
static List *
plan_hazards(List *findings)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, findings)
	{
		Finding    *f = (Finding *) lfirst(lc);
		ListCell   *hc;

		/* about the moment or the transaction, not the statement */
		if (f->rule < 0 || f->rule == RULE_LOCK_QUEUE ||
			f->rule == RULE_EXCLUSIVE_LOCK_HELD || f->effect == NULL)
			continue;
		/*
		 * Allowed, or let through on a table nobody has used yet (a fresh
		 * restore, a staging copy): the plan is for when it is in use
		 */
		if (f->verdict == VERDICT_OK && !f->allowed && !f->unused)
			continue;
		foreach(hc, f->effect->hazards)
		{
			Hazard	   *hz = (Hazard *) lfirst(hc);

			if (hz->rule == f->rule)
			{
				result = lappend(result, list_make2(f, hz));
				break;
			}
		}
	}
	return result;
}

/* Does the name denote a table that an earlier statement creates? */
static bool
made_by_script(Planner *p, RangeVar *rv)
{
	ListCell   *lc;

	foreach(lc, p->made)
	{
		RangeVar   *made = (RangeVar *) lfirst(lc);

		if (strcmp(made->relname, rv->relname) == 0 &&
			((made->schemaname == NULL && rv->schemaname == NULL) ||
			 (made->schemaname && rv->schemaname &&
			  strcmp(made->schemaname, rv->schemaname) == 0)))
			return true;
	}
	return false;
}

/* Plan one statement of the naive script: check_script()'s callback */
static void
plan_statement(const ScriptRow *row, void *arg)
{
	Planner    *p = (Planner *) arg;
	Node	   *stmt = row->stmt;
	List	   *found;
	Finding    *first;
	int			before = list_length(p->steps);
	bool		planned = false;
	char	   *why = NULL;

	p->statement = row->stmtno;
	p->script = row->script;
	p->floor = p->next_floor;
	/* the plan decides the transactions; the guard's settings are the DBA's */
	if (IsA(stmt, TransactionStmt))
		return;
	if (IsA(stmt, VariableSetStmt))
	{
		VariableSetStmt *set = (VariableSetStmt *) stmt;

		/*
		 * Each step may run in a session of its own: the names the plan
		 * writes are qualified, but the statements it keeps as written
		 * resolve theirs in the session that runs them
		 */
		if (set->name != NULL && strcmp(set->name, "search_path") == 0 && !set->is_local)
			cannot_plan(p, row->sql, stmt,
						"The steps may each run in a session of their own, and the statements the plan keeps "
						"as written find their tables by the search_path of that session: run every step "
						"with this search_path (for psql: PGOPTIONS='-c search_path=...').");
		return;
	}
	if (row->verdict != NULL)
	{
		cannot_plan(p, row->sql, stmt,
					strcmp(row->verdict, "error") == 0 ?
					psprintf("PostgreSQL would raise an error for this statement: %s", row->message) :
					psprintf("migration_guard cannot plan this %s: %s%s%s", row->command,
							 row->message, row->hint ? " " : "", row->hint ? row->hint : ""));
		return;
	}
	/*
	 * A table the script creates is empty until the plan's backfill phase
	 * fills it: its indexes and constraints come with it, in the expand
	 * phase, where they cost nothing (after the fill they would be judged
	 * on its rows, which the dry run cannot count)
	 */
	p->on_made = false;
	if (IsA(stmt, CreateStmt))
		p->made = lappend(p->made, ((CreateStmt *) stmt)->relation);
	else if (IsA(stmt, AlterTableStmt))
		p->on_made = made_by_script(p, ((AlterTableStmt *) stmt)->relation);
	else if (IsA(stmt, IndexStmt))
		p->on_made = made_by_script(p, ((IndexStmt *) stmt)->relation);

	found = plan_hazards(row->findings);
	if (found == NIL)
	{
		if (IsA(stmt, UpdateStmt))
		{
			if (plan_update(p, (UpdateStmt *) stmt, row->sql, &why))
				return;
			if (why != NULL)
			{
				cannot_plan(p, row->sql, stmt, why);
				return;
			}
		}
		/* one subcommand: with the verify and undo of its kind */
		if (IsA(stmt, AlterTableStmt) &&
			list_length(((AlterTableStmt *) stmt)->cmds) == 1 &&
			((AlterTableStmt *) stmt)->objtype == OBJECT_TABLE &&
			plan_alter_table(p, (AlterTableStmt *) stmt, row->sql, NIL, &why))
			return;
		p->steps = list_truncate(p->steps, before);
		as_written(p, phase_of(stmt), row->sql, stmt);
		return;
	}

	first = (Finding *) linitial((List *) linitial(found));
	switch (nodeTag(stmt))
	{
		case T_AlterTableStmt:
			planned = plan_alter_table(p, (AlterTableStmt *) stmt, row->sql, found, &why);
			break;
		case T_IndexStmt:
			planned = list_length(found) == 1 &&
				plan_create_index(p, planned_effect(first->effect), (IndexStmt *) stmt,
								  row->sql);
			break;
		case T_DropStmt:
			planned = ((DropStmt *) stmt)->removeType == OBJECT_INDEX ?
				plan_drop_index(p, (DropStmt *) stmt) :
				plan_deletes_rows(p, stmt, row->sql, found);
			break;
		case T_TruncateStmt:
			planned = plan_deletes_rows(p, stmt, row->sql, found);
			break;
		case T_ReindexStmt:
			planned = plan_reindex(p, (ReindexStmt *) stmt, row->sql);
			break;
		case T_RefreshMatViewStmt:
			planned = plan_refresh(p, (RefreshMatViewStmt *) stmt, first->effect, &why);
			break;
		case T_RenameStmt:
			planned = plan_rename(p, (RenameStmt *) stmt, row->sql, first);
			break;
		default:
			break;
	}
	if (!planned)
	{
		p->steps = list_truncate(p->steps, before);
		cannot_plan(p, row->sql, stmt,
					psprintf("migration_guard cannot plan this %s: %s%s%s", row->command,
							 why ? why : "it has no step-by-step form here yet.",
							 first->recipe ? " Its safe form, by hand: " : "",
							 first->recipe ? first->recipe : ""));
	}
}

/* ---------- merging, ordering, and the plan's own dry run ---------- */

/*
 * One backfill per table: the column fills of a table join the first of
 * them, each column set only on the rows that still need it
 */
static List *
merge_fills(List *steps)
{
	List	   *kept = NIL;
	ListCell   *lc;

	foreach(lc, steps)
	{
		PlanStep   *s = (PlanStep *) lfirst(lc);
		ListCell   *kc;
		bool		merged = false;

		if (s->fill_rel != NULL)
		{
			foreach(kc, kept)
			{
				PlanStep   *k = (PlanStep *) lfirst(kc);

				if (k->fill_rel != NULL && k->fill_relid == s->fill_relid &&
					strcmp(k->fill_rel, s->fill_rel) == 0)
				{
					k->fill_cols = list_concat(k->fill_cols, s->fill_cols);
					k->fill_values = list_concat(k->fill_values, s->fill_values);
					k->fill_conds = list_concat(k->fill_conds, s->fill_conds);
					merged = true;
					break;
				}
			}
		}
		if (!merged)
			kept = lappend(kept, s);
	}
	foreach(lc, kept)
	{
		PlanStep   *s = (PlanStep *) lfirst(lc);
		StringInfoData set;
		StringInfoData where;
		int			n;
		int			i;

		if (s->fill_rel == NULL)
			continue;
		n = list_length(s->fill_cols);
		initStringInfo(&set);
		initStringInfo(&where);
		for (i = 0; i < n; i++)
		{
			const char *col = list_nth(s->fill_cols, i);
			const char *value = list_nth(s->fill_values, i);
			const char *cond = list_nth(s->fill_conds, i);

			if (n == 1)
				appendStringInfo(&set, "%s = %s", col, value);
			else
				appendStringInfo(&set, "%s%s = CASE WHEN %s THEN %s ELSE %s END",
								 i ? ", " : "", col, cond, value, col);
			appendStringInfo(&where, n == 1 ? "%s%s" : "%s(%s)", i ? " OR " : "", cond);
		}
		s->sql = psprintf("CALL migration_guard.backfill(%s, %s, %s)",
						  lit(s->fill_rel), lit(set.data), lit(where.data));
		s->verify = psprintf("SELECT NOT EXISTS (SELECT FROM %s WHERE %s)",
							 s->fill_rel, where.data);
		s->relation = s->fill_rel;
	}
	return kept;
}

/* Steps by rank (their phase, or later: add_step()), then as they came */
static int
step_order(const ListCell *a, const ListCell *b)
{
	const PlanStep *x = (const PlanStep *) lfirst(a);
	const PlanStep *y = (const PlanStep *) lfirst(b);

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

typedef struct PlanRun
{
	PlanStep  **steps;
	int			n;
} PlanRun;

/* The step whose text holds the given line of the plan's script */
static PlanStep *
step_at_line(PlanRun *run, int line)
{
	int			i;

	for (i = run->n - 1; i >= 0; i--)
		if (run->steps[i]->first_line <= line)
			return run->steps[i];
	return NULL;
}

/* check_script()'s callback for the plan: each step's lock, and its refusals */
static void
note_step_lock(const ScriptRow *row, void *arg)
{
	PlanStep   *s = step_at_line((PlanRun *) arg, row->line);
	ListCell   *lc;

	/* a step already noted is the statement as written: judged as such */
	if (s == NULL || row->verdict != NULL || s->note != NULL)
		return;
	foreach(lc, row->findings)
	{
		Finding    *f = (Finding *) lfirst(lc);
		RelEffect  *eff = f->effect;

		if (eff == NULL)
			continue;
		if (s->proved_rule != 0 && f->rule == s->proved_rule)
		{
			s->lockmode = Max(s->lockmode, eff->lockmode);
			s->relation = eff->relname;
			s->hold = "instant";
			continue;
		}
		if (eff->lockmode > s->lockmode)
		{
			s->lockmode = eff->lockmode;
			s->relation = eff->relname;
			/* TRUNCATE's new file is empty: no time in proportion */
			s->hold = (eff->rewrite || eff->scan) && !IsA(row->stmt, TruncateStmt) ?
				"proportional" : "instant";
			s->has_bytes = OidIsValid(eff->relid);
			s->bytes = f->size.bytes;
		}
		/* a step the guard would still refuse is a planner bug: say so */
		if (f->rule >= 0 && f->rule != RULE_LOCK_QUEUE && !f->allowed &&
			(f->verdict == VERDICT_BLOCK ||
			 (f->verdict == VERDICT_WARN && s->deploy == NULL)))
			s->note = psprintf("%s%sthe guard would %s this step: %s",
							   s->note ? s->note : "", s->note ? " " : "",
							   f->verdict == VERDICT_BLOCK ? "refuse" : "warn about",
							   f->message);
	}
}

/*
 * The plan's own dry run: its steps as one script, each step a
 * transaction of its own (BEGIN and COMMIT around several statements, as
 * one query string runs them), each starting on a line of its own so that
 * the rows map back to it
 */
static void
dry_run_plan(List *steps, Datum sizes)
{
	StringInfoData script;
	PlanRun		run;
	ListCell   *lc;
	int			line = 1;

	initStringInfo(&script);
	run.n = 0;
	run.steps = palloc(sizeof(PlanStep *) * (list_length(steps) + 1));
	foreach(lc, steps)
	{
		PlanStep   *s = (PlanStep *) lfirst(lc);
		bool		wrap = !s->outside && strchr(s->sql, ';') != NULL &&
		pg_strncasecmp(s->sql, "BEGIN", 5) != 0;
		const char *c;

		s->first_line = line;
		run.steps[run.n++] = s;
		appendStringInfo(&script, "%s%s;%s\n", wrap ? "BEGIN; " : "", s->sql,
						 wrap ? " COMMIT;" : "");
		for (c = s->sql; *c; c++)
			if (*c == '\n')
				line++;
		line++;
	}
	check_script(script.data, false, sizes, note_step_lock, &run);
}

/*
 * migration_guard.plan(sql text, sizes jsonb): the steps of the safe plan
 * for a migration script
 */
Datum
mg_plan(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		sizes = PG_NARGS() > 1 && !PG_ARGISNULL(1) ? PG_GETARG_DATUM(1) : (Datum) 0;
	Planner		planner = {0};
	List	   *steps;
	ListCell   *lc;
	int			stepno = 0;

	mg_init_materialized_srf(fcinfo);
	if (rsinfo->setDesc->natts != PLAN_COLS)
		elog(ERROR, "migration_guard.plan() returns %d columns, not %d: the library and the extension's SQL do not match",
			 rsinfo->setDesc->natts, PLAN_COLS);
	if (PG_ARGISNULL(0))
		PG_RETURN_VOID();

	/* each statement of the plan runs on its own: judge the script so */
	check_script(text_to_cstring(PG_GETARG_TEXT_PP(0)), false, sizes,
				 plan_statement, &planner);
	steps = merge_fills(planner.steps);
	list_sort(steps, step_order);
	foreach(lc, steps)
	{
		PlanStep   *s = (PlanStep *) lfirst(lc);

		if (s->backfill)
		{
			s->lockmode = RowExclusiveLock;
			s->hold = "per batch";
		}
	}
	dry_run_plan(steps, sizes);

	foreach(lc, steps)
	{
		PlanStep   *s = (PlanStep *) lfirst(lc);
		Datum		values[PLAN_COLS];
		bool		nulls[PLAN_COLS] = {0};

		values[0] = Int32GetDatum(++stepno);
		values[1] = CStringGetTextDatum(phase_names[s->phase]);
		values[2] = Int32GetDatum(s->statement);
		values[3] = CStringGetTextDatum(s->sql);
		values[4] = BoolGetDatum(s->outside);
		nulls[5] = s->relation == NULL;
		values[5] = nulls[5] ? (Datum) 0 : CStringGetTextDatum(s->relation);
		nulls[6] = s->lockmode == NoLock;
		values[6] = nulls[6] ? (Datum) 0 : CStringGetTextDatum(lock_mode_name(s->lockmode));
		nulls[7] = s->hold == NULL;
		values[7] = nulls[7] ? (Datum) 0 : CStringGetTextDatum(s->hold);
		nulls[8] = !s->has_bytes;
		values[8] = Int64GetDatum(s->bytes);
		nulls[9] = s->verify == NULL;
		values[9] = nulls[9] ? (Datum) 0 : CStringGetTextDatum(s->verify);
		nulls[10] = s->undo == NULL;
		values[10] = nulls[10] ? (Datum) 0 : CStringGetTextDatum(s->undo);
		nulls[11] = s->deploy == NULL;
		values[11] = nulls[11] ? (Datum) 0 : CStringGetTextDatum(s->deploy);
		nulls[12] = s->note == NULL;
		values[12] = nulls[12] ? (Datum) 0 : CStringGetTextDatum(s->note);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*-------------------------------------------------------------------------
 *
 * hook.c
 *	  The ProcessUtility hook: decide cheaply whether a statement needs to
 *	  be judged, judge it, and act on the verdict before it runs.
 *
 * Acting means: a statement with no finding runs silently; a "warn" finding
 * raises a WARNING and the statement runs; a "block" finding raises an ERROR
 * with SQLSTATE MG001 and the statement never starts, so it takes no lock.
 *
 * The hook chains to any previously installed hook (or to
 * standard_ProcessUtility) exactly once per call, also for statements it
 * does not look at.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/hook.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "utils/memutils.h"

#include "migration_guard.h"

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

static void act_on_findings(List *findings);

/*
 * ProcessUtility hook: judge guarded DDL, then run it through the chain.
 */
static void
mg_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
				  bool readOnlyTree,
				  ProcessUtilityContext context, ParamListInfo params,
				  QueryEnvironment *queryEnv,
				  DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;

	/*
	 * Cheap exits first: the node-tag switch in inspect_is_guarded() is all
	 * that non-DDL statements pay.  Binary upgrade and extension scripts
	 * recreate objects rather than change live tables; an aborted
	 * transaction can run no DDL anyway.
	 */
	if (mg_mode != GUARD_MODE_OFF &&
		inspect_is_guarded(parsetree) &&
		!IsBinaryUpgrade &&
		!creating_extension &&
		!RecoveryInProgress() &&
		IsTransactionState())
	{
		MemoryContext guardcxt;
		MemoryContext oldcxt;
		char	   *sql;
		List	   *findings;

		guardcxt = AllocSetContextCreate(CurrentMemoryContext,
										 "migration_guard",
										 ALLOCSET_DEFAULT_SIZES);
		oldcxt = MemoryContextSwitchTo(guardcxt);

		sql = sql_cut_statement(queryString, pstmt->stmt_location,
								pstmt->stmt_len);
		findings = judge_statement(parsetree, sql, NULL);
		act_on_findings(findings);

		MemoryContextSwitchTo(oldcxt);
		MemoryContextDelete(guardcxt);
	}

	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree,
							context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree,
								context, params, queryEnv, dest, qc);
}

/*
 * Report warnings, then refuse the statement if any finding blocks it.
 * Several blocking findings are all reported: the first as the ERROR, the
 * others as WARNINGs just before it, so that one round trip shows the DBA
 * everything that needs changing.
 */
static void
act_on_findings(List *findings)
{
	ListCell   *lc;
	Finding    *first_block = NULL;

	foreach(lc, findings)
	{
		Finding    *f = (Finding *) lfirst(lc);

		if (f->rule < 0)
			continue;
		if (f->allowed)
		{
			ereport(NOTICE,
					(errcode(ERRCODE_WARNING),
					 errmsg("%s (allowed by migration_guard.allow)", f->message),
					 errdetail_internal("%s", f->detail)));
			continue;
		}
		if (f->verdict == VERDICT_BLOCK && first_block == NULL)
		{
			first_block = f;
			continue;
		}
		if (f->verdict != VERDICT_OK)
			ereport(WARNING,
					(errcode(f->verdict == VERDICT_BLOCK ?
							 ERRCODE_MG_STATEMENT_BLOCKED : ERRCODE_WARNING),
					 errmsg("%s", f->message),
					 errdetail_internal("%s", f->detail),
					 errhint("%s", f->hint)));
	}

	if (first_block != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_MG_STATEMENT_BLOCKED),
				 errmsg("%s", first_block->message),
				 errdetail_internal("%s", first_block->detail),
				 errhint("%s", first_block->hint)));
}

void
hook_install(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = mg_ProcessUtility;
}

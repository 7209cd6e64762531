/*-------------------------------------------------------------------------
 *
 * migration_guard.c
 *	  Module load: settings (GUCs) and installation of the utility hook.
 *
 * The guard is meant to be loaded through shared_preload_libraries so that
 * every backend judges DDL from its first statement.  Loading it later (LOAD,
 * session_preload_libraries, or implicitly by CREATE EXTENSION calling one of
 * its functions) still installs the hook in that backend, but the install
 * script warns the DBA, because other backends are not guarded.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/migration_guard.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "migration_guard.h"

PG_MODULE_MAGIC;

/*---- GUC variables ----*/

int			mg_mode = GUARD_MODE_ENFORCE;
int			mg_large_table_threshold = 10 * 1024;	/* kB: 10 MB */
int			mg_max_lock_hold = 250;	/* ms */
char	   *mg_allow = NULL;
int			mg_audit = AUDIT_ALL;
int			mg_lock_timeout = 2000;
int			mg_lock_holder_age = 1000;
char	   *mg_override_role = NULL;
char	   *mg_reason = NULL;

static const struct config_enum_entry mode_options[] = {
	{"enforce", GUARD_MODE_ENFORCE, false},
	{"warn", GUARD_MODE_WARN, false},
	{"off", GUARD_MODE_OFF, false},
	{NULL, 0, false}
};

static const struct config_enum_entry audit_options[] = {
	{"all", AUDIT_ALL, false},
	{"flagged", AUDIT_FLAGGED, false},
	{"off", AUDIT_OFF, false},
	{NULL, 0, false}
};

/* Was the library loaded by the postmaster (shared_preload_libraries)? */
static bool mg_preloaded = false;

/*
 * migration_guard.reason is stored with every override: a few sentences,
 * not a document (any role may set it, and every audit row would carry it)
 */
#define REASON_MAX_BYTES 1024

static bool
reason_check_hook(char **newval, void **extra, GucSource source)
{
	if (*newval != NULL && strlen(*newval) > REASON_MAX_BYTES)
	{
		GUC_check_errdetail("The reason is %zu bytes long; at most %d are allowed.",
							strlen(*newval), REASON_MAX_BYTES);
		return false;
	}
	return true;
}

/*
 * Errors that end whatever the guard was doing, never to be caught and
 * worked around: a deadlock or serialization failure, a lack of memory, a
 * cancel or statement_timeout, an I/O error, corrupt data or indexes.
 */
bool
mg_error_ends_work(int sqlerrcode)
{
	switch (ERRCODE_TO_CATEGORY(sqlerrcode))
	{
		case ERRCODE_TRANSACTION_ROLLBACK:
		case ERRCODE_INSUFFICIENT_RESOURCES:
		case ERRCODE_OPERATOR_INTERVENTION:
		case ERRCODE_SYSTEM_ERROR:
			return true;
		case ERRCODE_INTERNAL_ERROR:
			return sqlerrcode != ERRCODE_INTERNAL_ERROR;
		default:
			return false;
	}
}

/*
 * Run fn(arg) in an internal subtransaction, so that an error in it ends
 * that part of the guard's work and not the caller's: the subtransaction
 * is committed (or rolled back, where rollback is true) and NULL returned;
 * on an error it is rolled back and the error returned, in the caller's
 * memory context, unless rethrow(sqlerrcode) says the error ends the
 * caller's work too, which is then raised again.
 */
ErrorData *
mg_in_subtransaction(void (*fn) (void *), void *arg, bool rollback,
					 bool (*rethrow) (int sqlerrcode))
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		fn(arg);
		if (rollback)
			RollbackAndReleaseCurrentSubTransaction();
		else
			ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (rethrow(edata->sqlerrcode))
			ReThrowError(edata);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return edata;
}

void		_PG_init(void);

PG_FUNCTION_INFO_V1(mg_preload_status);

/*
 * Module load callback
 */
void
_PG_init(void)
{
	mg_preloaded = process_shared_preload_libraries_in_progress;

	/* GUC: migration_guard.mode = enforce | warn | off */
	DefineCustomEnumVariable("migration_guard.mode",
							 "Whether risky DDL is refused, only warned about, or not inspected.",
							 "With enforce, statements a rule blocks are refused; "
							 "with warn, every refusal becomes a WARNING; off skips the guard.",
							 &mg_mode,
							 GUARD_MODE_ENFORCE,
							 mode_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/* GUC: migration_guard.large_table_threshold = size */
	DefineCustomIntVariable("migration_guard.large_table_threshold",
							"Tables larger than this are protected by the size-dependent rules.",
							"Below it, index builds, scans and rewrites are fast enough to run "
							"under their lock.  Size is heap plus TOAST, partitions summed.",
							&mg_large_table_threshold,
							10 * 1024,
							0,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	/* GUC: migration_guard.max_lock_hold = interval */
	DefineCustomIntVariable("migration_guard.max_lock_hold",
							"Longest predicted hold of a lock that blocks reads or writes that the size rules let through.",
							"The prediction is the work's size over this server's rate for that kind "
							"of work (see migration_guard.work_rates()).  0 judges by "
							"migration_guard.large_table_threshold alone.",
							&mg_max_lock_hold,
							250,
							0,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	/* GUC: migration_guard.allow = 'rule_id, ...' | 'all' */
	DefineCustomStringVariable("migration_guard.allow",
							   "Rule ids whose findings are let through for this session or transaction.",
							   "A comma-separated list of rule ids, or \"all\".  Every statement "
							   "let through this way is recorded as overridden.",
							   &mg_allow,
							   "",
							   PGC_USERSET,
							   GUC_LIST_INPUT,
							   allow_check_hook, allow_assign_hook, NULL);

	/* GUC: migration_guard.reason = 'free text' */
	DefineCustomStringVariable("migration_guard.reason",
							   "Why the current overrides are needed; recorded with them.",
							   NULL,
							   &mg_reason,
							   "",
							   PGC_USERSET,
							   0,
							   reason_check_hook, NULL, NULL);

	/* GUC: migration_guard.audit = all | flagged | off */
	DefineCustomEnumVariable("migration_guard.audit",
							 "Which judged statements are recorded in migration_guard.audit_log.",
							 "With all, every DDL statement on an existing relation is recorded; with flagged, "
							 "only those where a rule fired (warned, blocked, overridden); with off, nothing.",
							 &mg_audit,
							 AUDIT_ALL,
							 audit_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/* GUC: migration_guard.lock_timeout = interval */
	DefineCustomIntVariable("migration_guard.lock_timeout",
							"lock_timeout applied to a guarded statement when the session has none.",
							"A statement that must wait longer than this for its lock is cancelled "
							"rather than left in the queue, where it would block every query that "
							"arrives after it.  0 disables it.",
							&mg_lock_timeout,
							2000,
							0,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	/* GUC: migration_guard.lock_holder_age = interval */
	DefineCustomIntVariable("migration_guard.lock_holder_age",
							"A guarded statement is refused at once when a transaction older than this holds a conflicting lock.",
							"Younger holders are simply waited for, under migration_guard.lock_timeout.",
							&mg_lock_holder_age,
							250,
							0,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	/* GUC: migration_guard.override_role = 'role' */
	DefineCustomStringVariable("migration_guard.override_role",
							   "Only members of this role may override rules with migration_guard.allow.",
							   "Empty means any role may.",
							   &mg_override_role,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	MarkGUCPrefixReserved("migration_guard");

	hook_install();
	held_locks_install();
	/* the set of unused tables lives in shared memory: only when preloaded */
	if (mg_preloaded)
		unused_tables_install();
}

/*
 * migration_guard._preload_status(): called by the install script, so that
 * CREATE EXTENSION in a server that did not preload us says so.
 */
Datum
mg_preload_status(PG_FUNCTION_ARGS)
{
	if (!mg_preloaded)
		ereport(WARNING,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("migration_guard is not loaded via shared_preload_libraries"),
				 errdetail("Only this session is guarded; DDL from other sessions runs unchecked."),
				 errhint("Add migration_guard to shared_preload_libraries in postgresql.conf "
						 "(shared_preload_libraries = 'migration_guard') and restart the server.")));
	PG_RETURN_BOOL(mg_preloaded);
}

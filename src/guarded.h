/*-------------------------------------------------------------------------
 *
 * guarded.h
 *	  Which utility statements the guard inspects: the hook's first test,
 *	  made for every utility statement, and check()'s.
 *
 * test/coverage/check_statements.sh holds the cases of inspect_is_guarded()
 * against the statement node types of the PostgreSQL headers and
 * test/coverage/statements.tsv.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/guarded.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GUARDED_H
#define GUARDED_H

#include "nodes/parsenodes.h"
#include "storage/lockdefs.h"

/* the statements whose guarding depends on more than their type */
extern bool alter_domain_scans(AlterDomainStmt *stmt);
extern bool create_table_names_others(CreateStmt *stmt);

/*
 * Which statements are inspected at all.  This switch is the whole cost of
 * the guard for every other utility statement.  With exact false it looks
 * at the node's type alone (a type guarded only in some forms counts as
 * guarded): the hook tabulates that once per type (hook_install()), and
 * asks again with exact true off its fast path.
 */
static inline bool
inspect_is_guarded(Node *parsetree, bool exact)
{
	switch (nodeTag(parsetree))
	{
		case T_AlterTableStmt:
		case T_IndexStmt:
		case T_DropStmt:
		case T_ReindexStmt:
		case T_ClusterStmt:
		case T_VacuumStmt:
		case T_RefreshMatViewStmt:
		case T_TruncateStmt:
		case T_RenameStmt:
		case T_CreateTrigStmt:
		case T_CreatePolicyStmt:
		case T_AlterPolicyStmt:
		case T_RuleStmt:
		case T_AlterObjectSchemaStmt:
		case T_DropOwnedStmt:
		case T_AlterSeqStmt:
		case T_AlterObjectDependsStmt:
		case T_ReassignOwnedStmt:
		case T_AlterTableMoveAllStmt:
		case T_AlterExtensionStmt:	/* its script's statements are (hook.c) */
			return true;
		case T_AlterDomainStmt:
			return !exact || alter_domain_scans((AlterDomainStmt *) parsetree);
		case T_ViewStmt:
			return !exact || ((ViewStmt *) parsetree)->replace;
		case T_CreateStmt:
			return !exact || create_table_names_others((CreateStmt *) parsetree);
		case T_CreateForeignTableStmt:
			return !exact ||
				create_table_names_others(&((CreateForeignTableStmt *) parsetree)->base);
		case T_LockStmt:
			/* weaker than SHARE, nobody queues behind it for long */
			return !exact || ((LockStmt *) parsetree)->mode >= ShareLock;
		default:
			return false;
	}
}

#endif							/* GUARDED_H */

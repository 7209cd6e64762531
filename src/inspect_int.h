/*-------------------------------------------------------------------------
 *
 * inspect_int.h
 *	  What the inspect files share: the state of one inspection and the
 *	  helpers that build its effects.  Only inspect*.c include it.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/inspect_int.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef INSPECT_INT_H
#define INSPECT_INT_H

#include "migration_guard.h"
#include "guarded.h"

/* Per-statement inspection state */
typedef struct Inspection
{
	const char *command;		/* command tag of the statement */
	const char *sql;			/* the statement's text */
	ScriptState *script;		/* check() script, or NULL in the hook */
	bool		missing_ok;		/* IF EXISTS: a missing relation is skipped */
	List	   *effects;		/* RelEffect *, in order of discovery */
} Inspection;

/* inspect.c */
extern RelEffect *effect_for(Inspection *insp, Oid relid, RangeVar *rv,
							 LOCKMODE lockmode);
extern RelEffect *effect_for_rangevar(Inspection *insp, RangeVar *rv,
									  LOCKMODE lockmode);
extern Hazard *add_hazard(RelEffect *eff, RuleId rule, Node *cause,
						  const char *cause_sql, const char *subject,
						  Oid other_relid);

extern List *catalog_oids(Oid catid, Oid indexid, AttrNumber keyatt, Oid key,
						  AttrNumber resultatt);
extern Oid	index_am(Oid indexid);

/* inspect_partition.c */
extern void inspect_partition_cmd(Inspection *insp, RelEffect *eff,
								  AlterTableCmd *cmd, const char *cmd_sql);

/* inspect_maintenance.c */
extern void inspect_reindex(Inspection *insp, ReindexStmt *stmt);
extern void inspect_table_copy(Inspection *insp, RangeVar *rv, Node *stmt);
extern void inspect_vacuum(Inspection *insp, VacuumStmt *stmt);
extern void inspect_refresh(Inspection *insp, RefreshMatViewStmt *stmt);
extern void inspect_truncate(Inspection *insp, TruncateStmt *stmt);
extern void inspect_move_all(Inspection *insp, AlterTableMoveAllStmt *stmt);

/* inspect_cascade.c */
extern bool drop_cascade_is_walked(DropStmt *stmt);
extern void inspect_drop_cascade(Inspection *insp, DropStmt *stmt);
extern void inspect_drop_owned(Inspection *insp, DropOwnedStmt *stmt);
extern List *objects_owned_by(List *roles);

/* inspect_domain.c */
extern void inspect_alter_domain(Inspection *insp, AlterDomainStmt *stmt);

/* inspect_lock_only.c */
extern void inspect_create_trigger(Inspection *insp, CreateTrigStmt *stmt);
extern void inspect_drop_table_object(Inspection *insp, DropStmt *stmt);
extern void inspect_policy(Inspection *insp, RangeVar *table);
extern void inspect_rule(Inspection *insp, RuleStmt *stmt);
extern void inspect_lock_table(Inspection *insp, LockStmt *stmt);
extern void inspect_set_schema(Inspection *insp, AlterObjectSchemaStmt *stmt);
extern void inspect_replace_view(Inspection *insp, ViewStmt *stmt);
extern void inspect_alter_sequence(Inspection *insp, AlterSeqStmt *stmt);
extern void inspect_object_depends(Inspection *insp, AlterObjectDependsStmt *stmt);
extern void inspect_reassign_owned(Inspection *insp, ReassignOwnedStmt *stmt);
extern void inspect_create_table(Inspection *insp, CreateStmt *stmt);

#endif							/* INSPECT_INT_H */

/*-------------------------------------------------------------------------
 *
 * inspect_lock_only.c
 *	  Inspect the statements whose only effect on an existing table worth
 *	  judging is the lock they take on it: triggers, rules and policies,
 *	  LOCK TABLE, SET SCHEMA, ALTER SEQUENCE, DEPENDS ON EXTENSION,
 *	  REASSIGN OWNED, and what CREATE [FOREIGN] TABLE locks on the tables it
 *	  names (the referenced side of its foreign keys, its parents).
 *
 * None of them reads or rewrites the table, but each takes SHARE ROW
 * EXCLUSIVE or ACCESS EXCLUSIVE on it, so waiting for that lock behind an
 * open transaction freezes every later query on the table just as an
 * ALTER TABLE does: they get the lock_queue rule, migration_guard's
 * lock_timeout and an audit row like every guarded statement.  The modes
 * are PostgreSQL's, from the files named at each function, and checked
 * by the engine-agreement test.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/inspect_lock_only.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "nodes/makefuncs.h"
#include "utils/lsyscache.h"

#include "inspect_int.h"

/*
 * CREATE [OR REPLACE] [CONSTRAINT] TRIGGER: SHARE ROW EXCLUSIVE on the
 * table (commands/trigger.c, CreateTriggerFiringOn), which blocks writes,
 * and, for a row trigger on a partitioned table, on each partition it is
 * cloned onto.
 */
void
inspect_create_trigger(Inspection *insp, CreateTrigStmt *stmt)
{
	RelEffect  *eff = effect_for_rangevar(insp, stmt->relation,
										  ShareRowExclusiveLock);
	ListCell   *lc;

	/* a row trigger on a partitioned table is cloned onto every partition */
	if (eff == NULL || !stmt->row || !OidIsValid(eff->relid) ||
		get_rel_relkind(eff->relid) != RELKIND_PARTITIONED_TABLE)
		return;
	foreach(lc, find_all_inheritors(eff->relid, NoLock, NULL))
	{
		if (lfirst_oid(lc) != eff->relid)
			(void) effect_for(insp, lfirst_oid(lc), NULL, ShareRowExclusiveLock);
	}
}

/*
 * DROP TRIGGER, DROP RULE, DROP POLICY: the object's name list ends with
 * its own name after the table's.  ACCESS EXCLUSIVE on the table, taken by
 * RemoveTriggerById, RemoveRewriteRuleById and RemovePolicyById (after the
 * ACCESS SHARE of the lookup).
 */
void
inspect_drop_table_object(Inspection *insp, DropStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		RangeVar   *table = table_object_relation((List *) lfirst(lc));

		if (table != NULL)
			(void) effect_for_rangevar(insp, table, AccessExclusiveLock);
	}
}

/*
 * The table of a trigger, rule or policy as DROP names it: every name but
 * the last.  NULL when there is no table part (PostgreSQL raises the
 * syntax error).
 */
RangeVar *
table_object_relation(List *names)
{
	if (list_length(names) < 2)
		return NULL;
	return makeRangeVarFromNameList(list_copy_head(names,
												   list_length(names) - 1));
}

/*
 * CREATE POLICY and ALTER POLICY: ACCESS EXCLUSIVE on the table
 * (commands/policy.c).
 */
void
inspect_policy(Inspection *insp, RangeVar *table)
{
	(void) effect_for_rangevar(insp, table, AccessExclusiveLock);
}

/* CREATE RULE: ACCESS EXCLUSIVE on the table (rewrite/rewriteDefine.c) */
void
inspect_rule(Inspection *insp, RuleStmt *stmt)
{
	(void) effect_for_rangevar(insp, stmt->relation, AccessExclusiveLock);
}

/*
 * LOCK TABLE: the mode it names, on each table and, without ONLY, on each
 * inheritance child and partition (commands/lockcmds.c).  With NOWAIT it
 * never queues: a conflicting holder makes it fail at once.
 */
void
inspect_lock_table(Inspection *insp, LockStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		RangeVar   *rv = (RangeVar *) lfirst(lc);
		RelEffect  *eff = effect_for_rangevar(insp, rv, stmt->mode);
		List	   *children;
		ListCell   *cc;

		if (eff == NULL)
			continue;
		eff->nowait = stmt->nowait;
		if (!rv->inh || !OidIsValid(eff->relid))
			continue;
		children = find_all_inheritors(eff->relid, NoLock, NULL);
		foreach(cc, children)
		{
			Oid			child = lfirst_oid(cc);
			RelEffect  *ceff;

			if (child == eff->relid)
				continue;
			ceff = effect_for(insp, child, NULL, stmt->mode);
			ceff->nowait = stmt->nowait;
		}
	}
}

/*
 * ALTER TABLE / VIEW / MATERIALIZED VIEW / SEQUENCE / FOREIGN TABLE ...
 * SET SCHEMA: ACCESS EXCLUSIVE on the relation (commands/tablecmds.c,
 * AlterTableNamespace).
 */
void
inspect_set_schema(Inspection *insp, AlterObjectSchemaStmt *stmt)
{
	switch (stmt->objectType)
	{
		case OBJECT_TABLE:
		case OBJECT_VIEW:
		case OBJECT_MATVIEW:
		case OBJECT_SEQUENCE:
		case OBJECT_FOREIGN_TABLE:
			(void) effect_for_rangevar(insp, stmt->relation,
									   AccessExclusiveLock);
			break;
		default:
			break;
	}
}

/*
 * CREATE OR REPLACE VIEW of a view that exists: ACCESS EXCLUSIVE on it
 * (commands/view.c, DefineVirtualRelation), which every query of the view
 * waits for.  A new view locks nothing that exists.
 */
void
inspect_replace_view(Inspection *insp, ViewStmt *stmt)
{
	if (stmt->replace)
		(void) effect_for_rangevar(insp, stmt->view, AccessExclusiveLock);
}

/* The foreign keys a CREATE TABLE declares, on columns or on the table */
List *
create_table_foreign_keys(CreateStmt *stmt)
{
	List	   *keys = NIL;
	List	   *constraints = list_copy(stmt->constraints);
	ListCell   *lc;

	foreach(lc, stmt->tableElts)
	{
		Node	   *elt = (Node *) lfirst(lc);

		if (IsA(elt, ColumnDef))
			constraints = list_concat(constraints,
									  ((ColumnDef *) elt)->constraints);
		else if (IsA(elt, Constraint))
			constraints = lappend(constraints, elt);
	}
	foreach(lc, constraints)
	{
		Constraint *con = (Constraint *) lfirst(lc);

		if (IsA(con, Constraint) && con->contype == CONSTR_FOREIGN &&
			con->pktable != NULL)
			keys = lappend(keys, con);
	}
	return keys;
}

/*
 * Does this CREATE TABLE name a table that exists (a parent, a referenced
 * table)?  Most do not, and are then not inspected at all.
 */
bool
create_table_names_others(CreateStmt *stmt)
{
	return stmt->inhRelations != NIL ||
		create_table_foreign_keys(stmt) != NIL;
}

/*
 * CREATE TABLE: the table itself is new, but it locks tables that are not.
 * SHARE ROW EXCLUSIVE on each table its foreign keys reference (the key is
 * added as by ALTER TABLE, ATAddForeignKeyConstraint), which blocks their
 * writes; ACCESS EXCLUSIVE on the parent of PARTITION OF, SHARE UPDATE
 * EXCLUSIVE on the parents of INHERITS (commands/tablecmds.c,
 * DefineRelation).
 */
void
inspect_create_table(Inspection *insp, CreateStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->inhRelations)
	{
		RelEffect  *parent = effect_for_rangevar(insp, (RangeVar *) lfirst(lc),
												 stmt->partbound != NULL ?
												 AccessExclusiveLock :
												 ShareUpdateExclusiveLock);
		Oid			defpart;

		/*
		 * A new partition beside a default one: the default partition is
		 * locked and scanned for rows of the new bound
		 * (check_default_partition_contents), as by ATTACH PARTITION.
		 */
		if (parent == NULL || !OidIsValid(parent->relid) ||
			stmt->partbound == NULL || stmt->partbound->is_default ||
			get_rel_relkind(parent->relid) != RELKIND_PARTITIONED_TABLE)
			continue;
		defpart = get_default_partition_oid(parent->relid);
		if (OidIsValid(defpart))
		{
			RelEffect  *def = effect_for(insp, defpart, NULL,
										 AccessExclusiveLock);

			def->scan = true;
			parent->scan = true;	/* its rows, in one of its partitions */
			add_hazard(def, RULE_ATTACH_PARTITION, (Node *) stmt, insp->sql,
					   def->relname, parent->relid);
		}
	}

	foreach(lc, create_table_foreign_keys(stmt))
	{
		Constraint *con = (Constraint *) lfirst(lc);

		/* a key on the new table itself locks nothing that exists */
		if (strcmp(con->pktable->relname, stmt->relation->relname) == 0 &&
			(con->pktable->schemaname == NULL ||
			 stmt->relation->schemaname == NULL ||
			 strcmp(con->pktable->schemaname, stmt->relation->schemaname) == 0))
			continue;
		(void) effect_for_rangevar(insp, con->pktable, ShareRowExclusiveLock);
	}
}

/*
 * ALTER SEQUENCE: SHARE ROW EXCLUSIVE on the sequence (commands/sequence.c,
 * AlterSequence), which the ROW EXCLUSIVE of every nextval() conflicts
 * with: each INSERT that draws from the sequence waits behind it.  An
 * option that changes the sequence's tuple writes it anew under a new
 * relfilenode (init_params, need_seq_rewrite): one page, so nothing to
 * judge but the lock.
 */
void
inspect_alter_sequence(Inspection *insp, AlterSeqStmt *stmt)
{
	static const char *const rewriting[] = {"as", "increment", "start",
		"restart", "maxvalue", "minvalue", "cache", "cycle"};
	RelEffect  *eff = effect_for_rangevar(insp, stmt->sequence,
										  ShareRowExclusiveLock);
	ListCell   *lc;

	if (eff == NULL)
		return;
	foreach(lc, stmt->options)
	{
		DefElem    *opt = (DefElem *) lfirst(lc);

		for (int i = 0; i < lengthof(rewriting); i++)
		{
			if (strcmp(opt->defname, rewriting[i]) == 0)
				eff->rewrite = true;
		}
	}
}

/*
 * ALTER INDEX / MATERIALIZED VIEW / TRIGGER ... [NO] DEPENDS ON EXTENSION:
 * ACCESS EXCLUSIVE on the relation, or on the trigger's table
 * (commands/alter.c, ExecAlterObjectDependsStmt through get_object_address).
 * Functions and procedures lock no relation.
 */
void
inspect_object_depends(Inspection *insp, AlterObjectDependsStmt *stmt)
{
	if (stmt->relation != NULL)
		(void) effect_for_rangevar(insp, stmt->relation, AccessExclusiveLock);
}

/*
 * REASSIGN OWNED BY ... TO ...: ACCESS EXCLUSIVE on every relation in this
 * database that one of the roles owns (catalog/pg_shdepend.c,
 * shdepReassignOwned through ATExecChangeOwner), taken one after the
 * other and held until the transaction ends.
 */
void
inspect_reassign_owned(Inspection *insp, ReassignOwnedStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, objects_owned_by(stmt->roles))
	{
		ObjectAddress *a = (ObjectAddress *) lfirst(lc);

		if (a->classId != RelationRelationId)
			continue;
		switch (get_rel_relkind(a->objectId))
		{
			case RELKIND_RELATION:
			case RELKIND_PARTITIONED_TABLE:
			case RELKIND_MATVIEW:
			case RELKIND_VIEW:
			case RELKIND_SEQUENCE:
			case RELKIND_FOREIGN_TABLE:
				(void) effect_for(insp, a->objectId, NULL, AccessExclusiveLock);
				break;
			default:
				break;
		}
	}
}

/*-------------------------------------------------------------------------
 *
 * inspect_maintenance.c
 *	  Inspect the statements that rebuild, copy or empty a whole relation:
 *	  REINDEX, CLUSTER, VACUUM FULL, REFRESH MATERIALIZED VIEW, TRUNCATE and
 *	  ALTER ... ALL IN TABLESPACE.
 *
 * Each holds a lock that blocks reads or writes for work proportional to
 * the relation's size, except the CONCURRENTLY forms, which hold a weaker
 * one; the lock modes are PostgreSQL's, from the files named at each
 * function, and checked by the engine-agreement test.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/inspect_maintenance.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/catalog.h"
#include "catalog/heap.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "commands/tablespace.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "inspect_int.h"

void
inspect_reindex(Inspection *insp, ReindexStmt *stmt)
{
	bool		concurrent = option_is_set(stmt->params, "concurrently");
	RelEffect  *eff;

	if (stmt->kind == REINDEX_OBJECT_INDEX)
	{
		Oid			indexid = RangeVarGetRelid(stmt->relation, NoLock, true);
		Oid			heapid;
		RelEffect  *idx;

		if (!OidIsValid(indexid))
			return;
		heapid = IndexGetRelation(indexid, true);
		if (!OidIsValid(heapid))
			return;
		eff = effect_for(insp, heapid, NULL,
						 concurrent ? ShareUpdateExclusiveLock : ShareLock);
		idx = effect_for(insp, indexid, stmt->relation,
						 concurrent ? ShareUpdateExclusiveLock :
						 AccessExclusiveLock);
		idx->rewrite = true;	/* a new relfilenode for the index */
	}
	else if (stmt->kind == REINDEX_OBJECT_TABLE)
	{
		eff = effect_for_rangevar(insp, stmt->relation,
								  concurrent ? ShareUpdateExclusiveLock :
								  ShareLock);
		if (eff == NULL)
			return;

		/*
		 * Each index of a table is rebuilt into a new file under ACCESS
		 * EXCLUSIVE (reindex_relation, reindex_index), which even a query
		 * that only plans with the index waits for.  CONCURRENTLY builds a
		 * copy of each under SHARE UPDATE EXCLUSIVE, swapped in later;
		 * partitioned tables are done partition by partition, each in a
		 * transaction of its own.
		 */
		if (!concurrent && OidIsValid(eff->relid) &&
			get_rel_relkind(eff->relid) != RELKIND_PARTITIONED_TABLE)
		{
			ListCell   *lc;

			/* from pg_index: the table is not locked yet, so not opened */
			foreach(lc, catalog_oids(IndexRelationId, IndexIndrelidIndexId,
									 Anum_pg_index_indrelid, eff->relid,
									 Anum_pg_index_indexrelid))
				effect_for(insp, lfirst_oid(lc), NULL,
						   AccessExclusiveLock)->rewrite = true;
		}
	}
	else
		return;					/* SCHEMA, SYSTEM, DATABASE: not per table */

	eff->scan = true;
	if (!concurrent)
		add_hazard(eff, RULE_REINDEX, (Node *) stmt, insp->sql,
				   stmt->relation->relname, InvalidOid);
}

/* CLUSTER and VACUUM FULL: a complete copy under ACCESS EXCLUSIVE */
void
inspect_table_copy(Inspection *insp, RangeVar *rv, Node *stmt)
{
	RelEffect  *eff = effect_for_rangevar(insp, rv, AccessExclusiveLock);

	if (eff == NULL)
		return;
	eff->rewrite = eff->scan = true;
	add_hazard(eff, RULE_REWRITE_TABLE, stmt, insp->sql,
			   IsA(stmt, VacuumStmt) ? "VACUUM FULL" : "CLUSTER", InvalidOid);
}

void
inspect_vacuum(Inspection *insp, VacuumStmt *stmt)
{
	ListCell   *lc;

	if (!stmt->is_vacuumcmd || !option_is_set(stmt->options, "full"))
		return;
	foreach(lc, stmt->rels)
	{
		VacuumRelation *vrel = (VacuumRelation *) lfirst(lc);

		if (vrel->relation != NULL)
			inspect_table_copy(insp, vrel->relation, (Node *) stmt);
	}
}

void
inspect_refresh(Inspection *insp, RefreshMatViewStmt *stmt)
{
	RelEffect  *eff = effect_for_rangevar(insp, stmt->relation,
										  stmt->concurrent ? ExclusiveLock :
										  AccessExclusiveLock);

	if (eff == NULL)
		return;
	if (stmt->concurrent)
	{
		eff->scan = true;		/* diffs the old contents against the new */
		return;
	}
	eff->rewrite = true;		/* a new heap, filled from the query */
	if (!stmt->skipData)
		add_hazard(eff, RULE_REFRESH_MATVIEW, (Node *) stmt, insp->sql,
				   NULL, InvalidOid);
}

void
inspect_truncate(Inspection *insp, TruncateStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		RelEffect  *eff = effect_for_rangevar(insp, (RangeVar *) lfirst(lc),
											  AccessExclusiveLock);

		if (eff == NULL)
			continue;
		eff->rewrite = true;	/* a new, empty relfilenode */
		add_hazard(eff, RULE_TRUNCATE, (Node *) stmt, insp->sql, NULL,
				   InvalidOid);

		/* without ONLY, inheritance children are truncated too */
		if (((RangeVar *) lfirst(lc))->inh && OidIsValid(eff->relid) &&
			get_rel_relkind(eff->relid) == RELKIND_RELATION &&
			has_subclass(eff->relid))
		{
			List	   *children = find_all_inheritors(eff->relid, NoLock,
													   NULL);
			ListCell   *cc;

			foreach(cc, children)
			{
				RelEffect  *ceff;

				if (lfirst_oid(cc) == eff->relid)
					continue;
				ceff = effect_for(insp, lfirst_oid(cc), NULL,
								  AccessExclusiveLock);
				ceff->rewrite = true;
				add_hazard(ceff, RULE_TRUNCATE, (Node *) stmt, insp->sql,
						   NULL, InvalidOid);
			}
		}
	}

	/*
	 * CASCADE truncates every table whose foreign keys reference one that
	 * is truncated, and so on (ExecuteTruncate, heap_truncate_find_FKs).
	 */
	if (stmt->behavior == DROP_CASCADE)
	{
		List	   *relids = NIL;
		List	   *found;

		foreach(lc, insp->effects)
		{
			RelEffect  *eff = (RelEffect *) lfirst(lc);

			if (OidIsValid(eff->relid))
				relids = lappend_oid(relids, eff->relid);
		}
		while (relids != NIL &&
			   (found = list_difference_oid(heap_truncate_find_FKs(relids),
											relids)) != NIL)
		{
			ListCell   *fc;

			foreach(fc, found)
			{
				RelEffect  *ceff = effect_for(insp, lfirst_oid(fc), NULL,
											  AccessExclusiveLock);

				ceff->rewrite = true;
				add_hazard(ceff, RULE_TRUNCATE, (Node *) stmt, insp->sql,
						   NULL, InvalidOid);
			}
			relids = list_concat(relids, found);
		}
	}
}

/*
 * ALTER TABLE / INDEX / MATERIALIZED VIEW ALL IN TABLESPACE ... SET
 * TABLESPACE: each relation of that kind in the tablespace (of the roles
 * named in OWNED BY, if any) is locked ACCESS EXCLUSIVE, all of them
 * before the first is moved, and then copied block by block, each under
 * its lock (AlterTableMoveAll).  Catalogs, shared, temporary and TOAST
 * relations stay.  Where PostgreSQL will refuse the statement (a relation
 * the caller does not own) there is nothing to judge.  With NOWAIT a busy
 * relation fails it at once instead of queueing.
 */
void
inspect_move_all(Inspection *insp, AlterTableMoveAllStmt *stmt)
{
	Oid			orig = get_tablespace_oid(stmt->orig_tablespacename, true);
	Oid			dest = get_tablespace_oid(stmt->new_tablespacename, true);
	List	   *roles = NIL;
	List	   *moved = NIL;
	Relation	classRel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	ListCell   *lc;

	if (!OidIsValid(orig) || !OidIsValid(dest))
		return;
	if (orig == MyDatabaseTableSpace)
		orig = InvalidOid;
	if (dest == MyDatabaseTableSpace)
		dest = InvalidOid;
	if (orig == dest)
		return;
	foreach(lc, stmt->roles)
	{
		Oid			roleid = get_rolespec_oid((RoleSpec *) lfirst(lc), true);

		if (!OidIsValid(roleid))
			return;
		roles = lappend_oid(roles, roleid);
	}

	classRel = table_open(RelationRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_class_reltablespace, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(orig));
	scan = systable_beginscan(classRel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tuple);
		char		k = form->relkind;

		if (IsCatalogNamespace(form->relnamespace) || form->relisshared ||
			isAnyTempNamespace(form->relnamespace) ||
			IsToastNamespace(form->relnamespace))
			continue;
		if (stmt->objtype == OBJECT_TABLE ?
			(k != RELKIND_RELATION && k != RELKIND_PARTITIONED_TABLE) :
			stmt->objtype == OBJECT_INDEX ?
			(k != RELKIND_INDEX && k != RELKIND_PARTITIONED_INDEX) :
			stmt->objtype == OBJECT_MATVIEW ? k != RELKIND_MATVIEW : true)
			continue;
		if (roles != NIL && !list_member_oid(roles, form->relowner))
			continue;
		if (!mg_class_ownercheck(form->oid, GetUserId()))
		{
			moved = NIL;		/* PostgreSQL refuses the whole statement */
			break;
		}
		moved = lappend_oid(moved, form->oid);
	}
	systable_endscan(scan);
	table_close(classRel, AccessShareLock);
	list_sort(moved, list_oid_cmp);

	foreach(lc, moved)
	{
		Oid			relid = lfirst_oid(lc);
		RelEffect  *eff = effect_for(insp, relid, NULL, AccessExclusiveLock);

		eff->nowait = stmt->nowait;
		/* a partitioned relation has no storage: only its lock */
		if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE ||
			get_rel_relkind(relid) == RELKIND_PARTITIONED_INDEX)
			continue;
		eff->rewrite = true;
		add_hazard(eff, RULE_REWRITE_TABLE, (Node *) stmt, insp->sql,
				   "SET TABLESPACE", InvalidOid);
	}
}

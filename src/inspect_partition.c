/*-------------------------------------------------------------------------
 *
 * inspect_partition.c
 *	  Inspect ALTER TABLE ... ATTACH and DETACH PARTITION: what attaching
 *	  reads and builds under the partition's ACCESS EXCLUSIVE lock.
 *
 * ATTACH PARTITION scans the partition unless a validated CHECK proves the
 * bound, builds each of the parent's indexes the partition lacks, validates
 * each of the parent's foreign keys the partition has no match for, and
 * scans a default partition for rows of the new bound
 * (commands/tablecmds.c, ATExecAttachPartition).  DETACH is brief once its
 * lock is granted; CONCURRENTLY takes its strong lock in a later
 * transaction.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/inspect_partition.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/partition.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_opclass.h"
#include "commands/tablecmds.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_node.h"
#include "parser/parse_utilcmd.h"
#include "partitioning/partbounds.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

#include "inspect_int.h"

/*
 * The column names, access method and uniqueness of an index, as one
 * string, so that a parent's index and a partition's can be compared the
 * way AttachPartitionEnsureIndexes matches them (by columns, not by
 * attribute numbers, which may differ).  Expression indexes never match.
 */
static char *
index_signature(Oid indexid)
{
	HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexid));
	Form_pg_index idx;
	StringInfoData buf;
	int			i;

	if (!HeapTupleIsValid(tup))
		return NULL;
	idx = (Form_pg_index) GETSTRUCT(tup);
	if (!heap_attisnull(tup, Anum_pg_index_indexprs, NULL) ||
		!heap_attisnull(tup, Anum_pg_index_indpred, NULL))
	{
		ReleaseSysCache(tup);
		return NULL;
	}
	initStringInfo(&buf);
	appendStringInfo(&buf, "%u/%d:", index_am(indexid), idx->indisunique);
	for (i = 0; i < idx->indnatts; i++)
	{
		char	   *att = get_attname(idx->indrelid, idx->indkey.values[i], true);

		appendStringInfo(&buf, "%s,", att ? att : "?");
	}
	ReleaseSysCache(tup);
	return buf.data;
}

/*
 * How many of the parent's indexes have no counterpart on the partition:
 * ATTACH PARTITION builds each of them under the partition's lock.
 */
static int
attach_missing_indexes(Relation parent, Relation part)
{
	List	   *part_sigs = NIL;
	ListCell   *lc;
	int			missing = 0;

	foreach(lc, RelationGetIndexList(part))
		part_sigs = lappend(part_sigs, index_signature(lfirst_oid(lc)));

	foreach(lc, RelationGetIndexList(parent))
	{
		char	   *sig = index_signature(lfirst_oid(lc));
		ListCell   *pc;
		bool		found = false;

		foreach(pc, part_sigs)
		{
			char	   *psig = (char *) lfirst(pc);

			if (sig && psig && strcmp(sig, psig) == 0)
			{
				found = true;
				part_sigs = foreach_delete_current(part_sigs, pc);
				break;
			}
		}
		if (!found)
			missing++;
	}
	return missing;
}

/*
 * Does the partition have a foreign key that ATTACH PARTITION can adopt as
 * the clone of the parent's foreign key pfk, as tryAttachPartitionForeignKey
 * decides: the same referenced table, columns (the partition's by name),
 * operators and actions, validated, and no clone of another already?
 */
static bool
fk_has_match(Relation parent, Relation part, ForeignKeyCacheInfo *pfk,
			 List *part_fks)
{
	HeapTuple	ptup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(pfk->conoid));
	Form_pg_constraint pcon;
	ListCell   *lc;
	bool		found = false;

	if (!HeapTupleIsValid(ptup))
		return false;
	pcon = (Form_pg_constraint) GETSTRUCT(ptup);
	foreach(lc, part_fks)
	{
		ForeignKeyCacheInfo *fk = lfirst(lc);
		HeapTuple	ctup;
		Form_pg_constraint con;
		bool		same = (fk->confrelid == pfk->confrelid &&
							fk->nkeys == pfk->nkeys);

		for (int i = 0; same && i < fk->nkeys; i++)
		{
			char	   *pname = get_attname(RelationGetRelid(parent),
											pfk->conkey[i], true);
			char	   *cname = get_attname(RelationGetRelid(part),
											fk->conkey[i], true);

			same = pname && cname && strcmp(pname, cname) == 0 &&
				fk->confkey[i] == pfk->confkey[i] &&
				fk->conpfeqop[i] == pfk->conpfeqop[i];
		}
		if (!same)
			continue;
		ctup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(fk->conoid));
		if (!HeapTupleIsValid(ctup))
			continue;
		con = (Form_pg_constraint) GETSTRUCT(ctup);
		found = !OidIsValid(con->conparentid) && con->convalidated &&
			con->condeferrable == pcon->condeferrable &&
			con->condeferred == pcon->condeferred &&
			con->confupdtype == pcon->confupdtype &&
			con->confdeltype == pcon->confdeltype &&
			con->confmatchtype == pcon->confmatchtype;
		ReleaseSysCache(ctup);
		if (found)
			break;
	}
	ReleaseSysCache(ptup);
	return found;
}

/*
 * The parent's foreign keys that ATTACH PARTITION must clone onto the
 * partition and validate over all its rows, under SHARE ROW EXCLUSIVE on
 * the referenced table (CloneFkReferencing): those the partition has no
 * match for.  A list of constraint OIDs.
 */
static List *
attach_unmatched_fks(Relation parent, Relation part)
{
	List	   *part_fks = RelationGetFKeyList(part);
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, RelationGetFKeyList(parent))
	{
		ForeignKeyCacheInfo *pfk = lfirst(lc);

		if (!fk_has_match(parent, part, pfk, part_fks))
			result = lappend_oid(result, pfk->conoid);
	}
	return result;
}

/*
 * ATTACH PARTITION scans the partition unless its constraints already imply
 * the partition bound, exactly as ATExecAttachPartition decides, and builds
 * every index of the parent that the partition lacks.  Deciding that needs
 * the parent's partition key, so both relations are opened under ACCESS
 * SHARE, taken only if free at once and released straight after: the
 * statement itself takes stronger locks on both.  If either is busy we
 * cannot prove anything and assume the scan.
 *
 * Returns true when neither a scan nor an index build is needed; sets
 * *check_sql to the partition constraint as a CHECK expression when that
 * is not proved yet, *missing_indexes to the number of index builds, and
 * *unmatched_fks to the parent's foreign keys that are validated over the
 * partition (attach_unmatched_fks).
 */
static bool
attach_is_proved(Oid parentid, Oid partid, PartitionBoundSpec *rawbound,
				 char **check_sql, int *missing_indexes, List **unmatched_fks)
{
	Relation	parent;
	Relation	part;
	ParseState *pstate;
	PartitionBoundSpec *bound;
	List	   *constraint;
	bool		proved;

	if (!ConditionalLockRelationOid(parentid, AccessShareLock))
		return false;
	if (!ConditionalLockRelationOid(partid, AccessShareLock))
	{
		UnlockRelationOid(parentid, AccessShareLock);
		return false;
	}
	/* Either may have been dropped since we looked its name up */
	parent = try_relation_open(parentid, NoLock);
	part = try_relation_open(partid, NoLock);
	if (parent == NULL || part == NULL ||
		parent->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
	{
		if (part)
			relation_close(part, NoLock);
		if (parent)
			relation_close(parent, NoLock);
		UnlockRelationOid(partid, AccessShareLock);
		UnlockRelationOid(parentid, AccessShareLock);
		return false;
	}

	pstate = make_parsestate(NULL);
	bound = transformPartitionBound(pstate, parent, copyObject(rawbound));
	constraint = list_concat(get_qual_from_partbound(parent, bound),
							 RelationGetPartitionQual(parent));
	if (constraint == NIL)
		proved = true;
	else
	{
		/*
		 * As ATExecAttachPartition does: simplified, not canonicalized (the
		 * quals of a bound are canonical already, and canonicalize_qual()
		 * takes an expression, not an implicit-AND list).
		 */
		constraint = (List *) eval_const_expressions(NULL, (Node *) constraint);
		constraint = list_make1(make_ands_explicit(constraint));
		constraint = map_partition_varattnos(constraint, 1, part, parent);
		proved = PartConstraintImpliedByRelConstraint(part, constraint);
		if (!proved)
			*check_sql = deparse_expression(linitial(constraint),
										deparse_context_for(RelationGetRelationName(part),
															partid),
										false, false);
	}
	*missing_indexes = attach_missing_indexes(parent, part);
	*unmatched_fks = attach_unmatched_fks(parent, part);

	relation_close(part, NoLock);
	relation_close(parent, NoLock);
	UnlockRelationOid(partid, AccessShareLock);
	UnlockRelationOid(parentid, AccessShareLock);
	return proved && *missing_indexes == 0;
}

void
inspect_partition_cmd(Inspection *insp, RelEffect *eff, AlterTableCmd *cmd,
					  const char *cmd_sql)
{
	PartitionCmd *pc = castNode(PartitionCmd, cmd->def);

	if (cmd->subtype == AT_AttachPartition)
	{
		RelEffect  *part = effect_for_rangevar(insp, pc->name,
											   AccessExclusiveLock);
		Oid			defpart;

		char	   *check_sql = NULL;
		int			missing = 0;
		List	   *fks = NIL;
		ListCell   *lc;

		if (part == NULL)
			return;
		if (!OidIsValid(eff->relid) || !OidIsValid(part->relid) ||
			!attach_is_proved(eff->relid, part->relid, pc->bound, &check_sql,
							  &missing, &fks))
		{
			Hazard	   *hz;

			part->scan = true;
			hz = add_hazard(part, RULE_ATTACH_PARTITION, (Node *) cmd, cmd_sql,
							part->relname, eff->relid);
			hz->expr_sql = check_sql;
			if (missing > 0)
				hz->why = psprintf("the partition lacks %d of the parent's indexes, which are built while the lock is held",
								   missing);
		}

		/*
		 * Each foreign key of the parent that the partition has no match for
		 * is cloned and validated over the partition's rows, while the
		 * referenced table is held in SHARE ROW EXCLUSIVE
		 */
		foreach(lc, fks)
		{
			Oid			conoid = lfirst_oid(lc);
			Oid			confrelid = InvalidOid;
			HeapTuple	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(conoid));
			Hazard	   *hz;

			if (HeapTupleIsValid(tup))
			{
				confrelid = ((Form_pg_constraint) GETSTRUCT(tup))->confrelid;
				ReleaseSysCache(tup);
			}
			part->scan = true;
			/* read by the check's join, as for ADD FOREIGN KEY */
			if (OidIsValid(confrelid))
				effect_for(insp, confrelid, NULL, ShareRowExclusiveLock)->scan = true;
			hz = add_hazard(part, RULE_ADD_FOREIGN_KEY, (Node *) cmd, cmd_sql,
							get_constraint_name(conoid), confrelid);
			hz->expr_sql = TextDatumGetCString(DirectFunctionCall1(pg_get_constraintdef,
																   ObjectIdGetDatum(conoid)));
		}

		/* The default partition is scanned for rows of the new bound */
		defpart = OidIsValid(eff->relid) ?
			get_default_partition_oid(eff->relid) : InvalidOid;
		if (OidIsValid(defpart) && defpart != part->relid)
		{
			RelEffect  *def = effect_for(insp, defpart, NULL,
										 AccessExclusiveLock);

			def->scan = true;
			add_hazard(def, RULE_ATTACH_PARTITION, (Node *) cmd, cmd_sql,
					   def->relname, eff->relid);
		}
	}
	else if (cmd->subtype == AT_DetachPartition)
	{
		/*
		 * CONCURRENTLY takes SHARE UPDATE EXCLUSIVE on both in its first
		 * transaction, but ACCESS EXCLUSIVE on the partition in its second,
		 * once no query that planned with the partition is left
		 * (ATExecDetachPartition).
		 */
		RelEffect  *part = effect_for_rangevar(insp, pc->name,
											   AccessExclusiveLock);

		if (part != NULL && pc->concurrent)
			part->later_xact = true;
		if (!pc->concurrent)
			add_hazard(eff, RULE_DETACH_PARTITION, (Node *) cmd, cmd_sql,
					   part ? part->relname : pc->name->relname,
					   part ? part->relid : InvalidOid);
	}
}

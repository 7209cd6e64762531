/*-------------------------------------------------------------------------
 *
 * inspect_cascade.c
 *	  What a DROP ... CASCADE reaches: the tables it drops, the columns it
 *	  drops from tables it keeps, and every table it locks on the way.
 *
 * DROP SCHEMA, TYPE, DOMAIN, FUNCTION (PROCEDURE, ROUTINE, AGGREGATE) and
 * VIEW with CASCADE, and DROP OWNED BY, take tables and columns with them:
 * data is lost with no word from PostgreSQL but a NOTICE, while the direct
 * DROP TABLE is warned about.  PostgreSQL's own walk (findDependentObjects)
 * is static, so we follow pg_depend the same way, from the objects named:
 * every object that depends on a dropped one, normally, automatically or
 * internally, is dropped too.  Reading pg_depend takes no lock on the
 * objects themselves.
 *
 * What is reported, per relation: a table or materialized view dropped
 * (drop_table), a column dropped (drop_column: a column of a dropped type
 * or domain), and ACCESS EXCLUSIVE on each table that only loses an index,
 * a constraint, a trigger, a rule, a default or a policy (lock_queue and
 * the lock_timeout apply to those).
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/inspect_cascade.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_shdepend.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "parser/parse_type.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "inspect_int.h"

/* A walk of pg_depend stops here: a cascade this wide is reported in part */
#define CASCADE_MAX_OBJECTS 10000

typedef struct Walk
{
	Inspection *insp;
	Node	   *stmt;
	List	   *todo;			/* ObjectAddress *, still to expand */
	List	   *seen;			/* ObjectAddress *, every object reached */
} Walk;

static bool
seen_before(Walk *w, Oid classid, Oid objid, int32 subid)
{
	ListCell   *lc;

	foreach(lc, w->seen)
	{
		ObjectAddress *a = (ObjectAddress *) lfirst(lc);

		if (a->classId == classid && a->objectId == objid &&
			(a->objectSubId == 0 || a->objectSubId == subid))
			return true;
	}
	return false;
}

static void
reach(Walk *w, Oid classid, Oid objid, int32 subid)
{
	ObjectAddress *a;

	if (seen_before(w, classid, objid, subid) ||
		list_length(w->seen) >= CASCADE_MAX_OBJECTS)
		return;
	a = palloc(sizeof(ObjectAddress));
	a->classId = classid;
	a->objectId = objid;
	a->objectSubId = subid;
	w->seen = lappend(w->seen, a);
	w->todo = lappend(w->todo, a);
}

/* A table that keeps existing but is locked to lose something */
static void
lock_table(Walk *w, Oid relid)
{
	if (OidIsValid(relid) && get_rel_relkind(relid) != '\0')
		(void) effect_for(w->insp, relid, NULL, AccessExclusiveLock);
}

/*
 * The table a catalog object belongs to, from its row (found by its oid
 * index: not every one of these catalogs has a syscache), and for a rule
 * its name.
 */
static Oid
owning_relation(Oid classid, Oid indexid, Oid objid, AttrNumber oidcol,
				AttrNumber relcol, char **rulename)
{
	Relation	catalog = table_open(classid, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			relid = InvalidOid;

	ScanKeyInit(&key, oidcol, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(objid));
	scan = systable_beginscan(catalog, indexid, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, relcol, RelationGetDescr(catalog),
									 &isnull);

		if (!isnull)
			relid = DatumGetObjectId(d);
		if (rulename != NULL)
			*rulename = pstrdup(NameStr(((Form_pg_rewrite) GETSTRUCT(tup))->rulename));
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
	return relid;
}

/* What dropping one reached object does to the tables */
static void
note_reached(Walk *w, const ObjectAddress *a)
{
	Inspection *insp = w->insp;

	if (a->classId == RelationRelationId)
	{
		char		relkind = get_rel_relkind(a->objectId);

		if (relkind == RELKIND_INDEX || relkind == RELKIND_PARTITIONED_INDEX)
			lock_table(w, IndexGetRelation(a->objectId, true));
		else if (relkind == RELKIND_RELATION ||
				 relkind == RELKIND_PARTITIONED_TABLE ||
				 relkind == RELKIND_MATVIEW ||
				 relkind == RELKIND_FOREIGN_TABLE)
		{
			RelEffect  *eff = effect_for(insp, a->objectId, NULL,
										 AccessExclusiveLock);

			if (a->objectSubId == 0)
				add_hazard(eff, RULE_DROP_TABLE, w->stmt, insp->sql, NULL,
						   InvalidOid);
			else
			{
				char	   *attname = get_attname(a->objectId, a->objectSubId,
												  true);

				if (attname != NULL)
					add_hazard(eff, RULE_DROP_COLUMN, w->stmt, insp->sql,
							   attname, InvalidOid);
			}
		}
		else if (relkind == RELKIND_VIEW && a->objectSubId == 0)
			lock_table(w, a->objectId);
	}
	else if (a->classId == ConstraintRelationId)
	{
		HeapTuple	tup = SearchSysCache1(CONSTROID,
										  ObjectIdGetDatum(a->objectId));

		if (HeapTupleIsValid(tup))
		{
			Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);

			lock_table(w, con->conrelid);
			if (con->contype == CONSTRAINT_FOREIGN)
				lock_table(w, con->confrelid);
			ReleaseSysCache(tup);
		}
	}
	else if (a->classId == TriggerRelationId)
		lock_table(w, owning_relation(TriggerRelationId, TriggerOidIndexId,
									  a->objectId, Anum_pg_trigger_oid,
									  Anum_pg_trigger_tgrelid, NULL));
	else if (a->classId == AttrDefaultRelationId)
		lock_table(w, owning_relation(AttrDefaultRelationId,
									  AttrDefaultOidIndexId, a->objectId,
									  Anum_pg_attrdef_oid,
									  Anum_pg_attrdef_adrelid, NULL));
	else if (a->classId == PolicyRelationId)
		lock_table(w, owning_relation(PolicyRelationId, PolicyOidIndexId,
									  a->objectId, Anum_pg_policy_oid,
									  Anum_pg_policy_polrelid, NULL));
	else if (a->classId == RewriteRelationId)
	{
		char	   *rulename = NULL;
		Oid			relid = owning_relation(RewriteRelationId,
											RewriteOidIndexId, a->objectId,
											Anum_pg_rewrite_oid,
											Anum_pg_rewrite_ev_class,
											&rulename);

		/* a view's _RETURN rule goes with the view itself */
		if (OidIsValid(relid) && rulename != NULL &&
			strcmp(rulename, "_RETURN") == 0)
			reach(w, RelationRelationId, relid, 0);
		else
			lock_table(w, relid);
	}
}

/* Everything that depends on one object, from pg_depend's reference index */
static void
expand(Walk *w, const ObjectAddress *a)
{
	Relation	depend = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[3];
	int			nkeys = 2;
	SysScanDesc scan;
	HeapTuple	tup;

	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(a->classId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(a->objectId));
	if (a->objectSubId != 0)
	{
		ScanKeyInit(&key[2], Anum_pg_depend_refobjsubid, BTEqualStrategyNumber,
					F_INT4EQ, Int32GetDatum(a->objectSubId));
		nkeys = 3;
	}
	scan = systable_beginscan(depend, DependReferenceIndexId, true, NULL,
							  nkeys, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		/* an extension's members go with DROP EXTENSION only */
		if (dep->deptype == DEPENDENCY_EXTENSION ||
			dep->deptype == DEPENDENCY_AUTO_EXTENSION)
			continue;
		reach(w, dep->classid, dep->objid, dep->objsubid);
	}
	systable_endscan(scan);
	table_close(depend, AccessShareLock);
}

/* Walk from the objects already reached; report what each one takes */
static void
walk(Walk *w)
{
	while (w->todo != NIL)
	{
		ObjectAddress *a = (ObjectAddress *) linitial(w->todo);

		w->todo = list_delete_first(w->todo);
		CHECK_FOR_INTERRUPTS();
		note_reached(w, a);
		expand(w, a);
	}
}

/* The object a DROP names, without a lock; InvalidOid if there is none */
Oid
drop_named_object(ObjectType type, Node *object, Oid *classid)
{
	switch (type)
	{
		case OBJECT_SCHEMA:
			*classid = NamespaceRelationId;
			return get_namespace_oid(strVal(object), true);
		case OBJECT_TYPE:
		case OBJECT_DOMAIN:
			*classid = TypeRelationId;
			return LookupTypeNameOid(NULL, (TypeName *) object, true);
		case OBJECT_FUNCTION:
		case OBJECT_PROCEDURE:
		case OBJECT_ROUTINE:
		case OBJECT_AGGREGATE:
			*classid = ProcedureRelationId;
			return LookupFuncWithArgs(type, (ObjectWithArgs *) object, true);
		case OBJECT_VIEW:
		case OBJECT_TABLE:
		case OBJECT_MATVIEW:
		case OBJECT_FOREIGN_TABLE:
			*classid = RelationRelationId;
			return RangeVarGetRelid(makeRangeVarFromNameList((List *) object),
									NoLock, true);
		default:
			return InvalidOid;
	}
}

/* Does DROP ... CASCADE of this kind of object get a walk? */
bool
drop_cascade_is_walked(DropStmt *stmt)
{
	if (stmt->behavior != DROP_CASCADE)
		return false;
	switch (stmt->removeType)
	{
		case OBJECT_SCHEMA:
		case OBJECT_TYPE:
		case OBJECT_DOMAIN:
		case OBJECT_FUNCTION:
		case OBJECT_PROCEDURE:
		case OBJECT_ROUTINE:
		case OBJECT_AGGREGATE:
		case OBJECT_VIEW:
		case OBJECT_TABLE:
		case OBJECT_MATVIEW:
		case OBJECT_FOREIGN_TABLE:
			return true;
		default:
			return false;
	}
}

/*
 * DROP ... CASCADE: what the named objects take with them.  The named
 * objects themselves are the caller's (a dropped table is already reported
 * by inspect_drop); this reports what depends on them.
 */
void
inspect_drop_cascade(Inspection *insp, DropStmt *stmt)
{
	Walk		w = {insp, (Node *) stmt, NIL, NIL};
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		Oid			classid = InvalidOid;
		Oid			objid = drop_named_object(stmt->removeType, lfirst(lc),
											  &classid);

		if (!OidIsValid(objid))
			continue;
		/* seen, but not reported: it is the statement's own object */
		reach(&w, classid, objid, 0);
		w.todo = list_delete_last(w.todo);
		expand(&w, (ObjectAddress *) llast(w.seen));
	}
	walk(&w);
}

static List *objects_owned_by_role(Oid roleid);

/*
 * The objects in this database that the roles (RoleSpec) own, as
 * pg_shdepend records them (shdepDropOwned and shdepReassignOwned walk the
 * same entries): a list of ObjectAddress.  A role that does not exist owns
 * nothing here; PostgreSQL reports it.
 */
List *
objects_owned_by(List *roles)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, roles)
	{
		Oid			roleid = get_rolespec_oid((RoleSpec *) lfirst(lc), true);

		if (OidIsValid(roleid))
			result = list_concat(result, objects_owned_by_role(roleid));
	}
	return result;
}

static List *
objects_owned_by_role(Oid roleid)
{
	List	   *result = NIL;
	Relation	shdep;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;

	shdep = table_open(SharedDependRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_shdepend_refclassid,
				BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(AuthIdRelationId));
	ScanKeyInit(&key[1], Anum_pg_shdepend_refobjid,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(roleid));
	scan = systable_beginscan(shdep, SharedDependReferenceIndexId, true,
							  NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_shdepend sd = (Form_pg_shdepend) GETSTRUCT(tup);
		ObjectAddress *a;

		if (sd->dbid != MyDatabaseId ||
			sd->deptype != SHARED_DEPENDENCY_OWNER)
			continue;
		a = palloc(sizeof(ObjectAddress));
		a->classId = sd->classid;
		a->objectId = sd->objid;
		a->objectSubId = sd->objsubid;
		result = lappend(result, a);
	}
	systable_endscan(scan);
	table_close(shdep, AccessShareLock);
	return result;
}

/*
 * DROP OWNED BY: every object the roles own in this database is dropped,
 * with CASCADE's reach when asked (pg_shdepend's owner entries).
 */
void
inspect_drop_owned(Inspection *insp, DropOwnedStmt *stmt)
{
	Walk		w = {insp, (Node *) stmt, NIL, NIL};
	ListCell   *lc;

	foreach(lc, objects_owned_by(stmt->roles))
	{
		ObjectAddress *a = (ObjectAddress *) lfirst(lc);

		reach(&w, a->classId, a->objectId, a->objectSubId);
	}
	if (stmt->behavior != DROP_CASCADE)
	{
		/* only the owned objects: what depends on them makes it fail */
		foreach(lc, w.todo)
			note_reached(&w, (ObjectAddress *) lfirst(lc));
		return;
	}
	walk(&w);
}

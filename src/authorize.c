/*-------------------------------------------------------------------------
 *
 * authorize.c
 *	  Would PostgreSQL refuse this statement to this user for want of a
 *	  privilege?  Asked before anything is judged, so that such a statement
 *	  gets PostgreSQL's own error and nothing of ours: no size in a WARNING,
 *	  no other session's query in a DETAIL, no audit row for a statement the
 *	  caller could never have run.
 *
 * The checks are the ones PostgreSQL makes first for each statement
 * (ATSimplePermissions, RangeVarCallbackOwnsRelation, truncate_check_perms,
 * RangeVarCallbackForDropRelation), with the same error.  Names are looked
 * up without a lock; a name that resolves to nothing is PostgreSQL's to
 * report.  Maintenance statements (REINDEX, CLUSTER, VACUUM, REFRESH) are
 * not checked here: who may run them depends on the major (MAINTAIN, 17).
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/authorize.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_type.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"

#include "migration_guard.h"

/*
 * Is the user refused on this relation?  Returns the ACL result, for
 * aclcheck_error().  what: 'o' ownership, 'd' ownership of the relation or
 * of its schema (DROP), 'p' any of the privileges in privs (also on a
 * column, with ACL_REFERENCES).
 */
static AclResult
relation_acl(RangeVar *rv, char what, AclMode privs, Oid *relid)
{
	Oid			userid = GetUserId();
	AclResult	result;

	*relid = RangeVarGetRelid(rv, NoLock, true);
	if (!OidIsValid(*relid))
		return ACLCHECK_OK;		/* PostgreSQL reports the missing relation */
	switch (what)
	{
		case 'p':
			result = pg_class_aclcheck(*relid, userid, privs);
			if (result != ACLCHECK_OK && privs == ACL_REFERENCES)
				result = pg_attribute_aclcheck_all(*relid, userid, privs,
												   ACLMASK_ANY);
			return result;
		case 'd':
			if (mg_namespace_ownercheck(get_rel_namespace(*relid), userid))
				return ACLCHECK_OK;
			/* FALLTHROUGH */
		default:
			return mg_class_ownercheck(*relid, userid) ?
				ACLCHECK_OK : ACLCHECK_NOT_OWNER;
	}
}

/* The check for one relation; raises PostgreSQL's error if asked to */
static bool
relation_allowed(RangeVar *rv, char what, AclMode privs, bool raise)
{
	Oid			relid;
	AclResult	result = relation_acl(rv, what, privs, &relid);

	if (result == ACLCHECK_OK)
		return true;
	if (raise)
		aclcheck_error(result, get_relkind_objtype(get_rel_relkind(relid)),
					   rv->relname);
	return false;
}

/*
 * PostgreSQL's error for DROP OWNED and REASSIGN OWNED of a role whose
 * privileges the user lacks (commands/user.c); 16 added the DETAIL.
 */
static void
deny_role(Oid roleid, const char *message, const char *detail)
{
#if PG_VERSION_NUM >= 160000
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg_internal("%s", message),
			 errdetail_internal(detail, GetUserNameFromId(roleid, false))));
#else
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg_internal("%s", message)));
#endif
}

static bool table_objects_allowed(List *objects, bool raise);
static bool dropped_objects_allowed(DropStmt *stmt, bool raise);
static bool create_table_allowed(CreateStmt *stmt, bool raise);

/*
 * May the current user run this guarded statement, as far as PostgreSQL's
 * first privilege check goes?  With raise, a refusal is PostgreSQL's own
 * ERROR instead of false.
 */
bool
authorize_statement(Node *parsetree, bool raise)
{
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_AlterTableStmt:
			return relation_allowed(((AlterTableStmt *) parsetree)->relation,
									'o', 0, raise);
		case T_IndexStmt:
			return relation_allowed(((IndexStmt *) parsetree)->relation,
									'o', 0, raise);
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) parsetree;

				if (stmt->relation == NULL)
					return true;	/* not a relation's rename */
				return relation_allowed(stmt->relation, 'o', 0, raise);
			}
		case T_TruncateStmt:
			foreach(lc, ((TruncateStmt *) parsetree)->relations)
			{
				if (!relation_allowed((RangeVar *) lfirst(lc), 'p', ACL_TRUNCATE,
									  raise))
					return false;
			}
			return true;
		case T_DropStmt:
			{
				DropStmt   *stmt = (DropStmt *) parsetree;

				if (stmt->removeType == OBJECT_TRIGGER ||
					stmt->removeType == OBJECT_RULE ||
					stmt->removeType == OBJECT_POLICY)
					return table_objects_allowed(stmt->objects, raise);
				if (stmt->behavior == DROP_CASCADE &&
					stmt->removeType != OBJECT_TABLE &&
					stmt->removeType != OBJECT_INDEX &&
					stmt->removeType != OBJECT_MATVIEW)
					return dropped_objects_allowed(stmt, raise);

				if (stmt->removeType != OBJECT_TABLE &&
					stmt->removeType != OBJECT_INDEX &&
					stmt->removeType != OBJECT_MATVIEW)
					return true;
				foreach(lc, stmt->objects)
				{
					RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));

					if (!relation_allowed(rv, 'd', 0, raise))
						return false;
				}
				return true;
			}
		case T_CreateTrigStmt:
			return relation_allowed(((CreateTrigStmt *) parsetree)->relation,
									'p', ACL_TRIGGER, raise);
		case T_CreatePolicyStmt:
			return relation_allowed(((CreatePolicyStmt *) parsetree)->table,
									'o', 0, raise);
		case T_AlterPolicyStmt:
			return relation_allowed(((AlterPolicyStmt *) parsetree)->table,
									'o', 0, raise);
		case T_RuleStmt:
			return relation_allowed(((RuleStmt *) parsetree)->relation,
									'o', 0, raise);
		case T_AlterObjectSchemaStmt:
			{
				AlterObjectSchemaStmt *stmt = (AlterObjectSchemaStmt *) parsetree;

				if (stmt->relation == NULL)
					return true;	/* not a relation */
				return relation_allowed(stmt->relation, 'o', 0, raise);
			}
		case T_LockStmt:
			{
				LockStmt   *stmt = (LockStmt *) parsetree;

				foreach(lc, stmt->relations)
				{
					if (!relation_allowed((RangeVar *) lfirst(lc), 'p',
										  mg_lock_table_privileges(stmt->mode),
										  raise))
						return false;
				}
				return true;
			}
		case T_CreateStmt:
			return create_table_allowed((CreateStmt *) parsetree, raise);
		case T_CreateForeignTableStmt:
			return create_table_allowed(&((CreateForeignTableStmt *) parsetree)->base,
										raise);
		case T_AlterSeqStmt:
			return relation_allowed(((AlterSeqStmt *) parsetree)->sequence,
									'o', 0, raise);
		case T_AlterObjectDependsStmt:
			{
				AlterObjectDependsStmt *stmt = (AlterObjectDependsStmt *) parsetree;

				if (stmt->relation == NULL)
					return true;	/* a routine: no relation locked */
				return relation_allowed(stmt->relation, 'o', 0, raise);
			}
		case T_ReassignOwnedStmt:
			{
				ReassignOwnedStmt *stmt = (ReassignOwnedStmt *) parsetree;
				Oid			newrole = get_rolespec_oid(stmt->newrole, true);

				/* ReassignOwnedObjects: privileges of every role, and of the new owner */
				foreach(lc, stmt->roles)
				{
					Oid			roleid = get_rolespec_oid((RoleSpec *) lfirst(lc),
														  true);

					if (!OidIsValid(roleid) || has_privs_of_role(GetUserId(), roleid))
						continue;
					if (raise)
						deny_role(roleid, "permission denied to reassign objects",
								  "Only roles with privileges of role \"%s\" may reassign objects owned by it.");
					return false;
				}
				if (OidIsValid(newrole) && !has_privs_of_role(GetUserId(), newrole))
				{
					if (raise)
						deny_role(newrole, "permission denied to reassign objects",
								  "Only roles with privileges of role \"%s\" may reassign objects to it.");
					return false;
				}
				return true;
			}
		case T_ViewStmt:
			/* replacing a view takes ownership of it (DefineVirtualRelation) */
			if (!((ViewStmt *) parsetree)->replace)
				return true;
			return relation_allowed(((ViewStmt *) parsetree)->view, 'o', 0, raise);
		case T_AlterDomainStmt:
			{
				TypeName   *tn = makeTypeNameFromNameList(((AlterDomainStmt *) parsetree)->typeName);
				Oid			typid = LookupTypeNameOid(NULL, tn, true);

				if (!OidIsValid(typid) ||
					mg_object_ownercheck(TypeRelationId, typid, GetUserId()))
					return true;
				if (raise)
					aclcheck_error_type(ACLCHECK_NOT_OWNER, typid);
				return false;
			}
		case T_DropOwnedStmt:
			foreach(lc, ((DropOwnedStmt *) parsetree)->roles)
			{
				Oid			roleid = get_rolespec_oid((RoleSpec *) lfirst(lc),
													  true);

				if (!OidIsValid(roleid) || has_privs_of_role(GetUserId(), roleid))
					continue;
				if (raise)
					deny_role(roleid, "permission denied to drop objects",
							  "Only roles with privileges of role \"%s\" may drop objects owned by it.");
				return false;
			}
			return true;
		default:
			return true;
	}
}

/* DROP TRIGGER, RULE, POLICY: ownership of the table, named before the object */
static bool
table_objects_allowed(List *objects, bool raise)
{
	ListCell   *lc;

	foreach(lc, objects)
	{
		RangeVar   *table = table_object_relation((List *) lfirst(lc));

		if (table != NULL && !relation_allowed(table, 'o', 0, raise))
			return false;
	}
	return true;
}

/*
 * DROP ... CASCADE of a schema, type, domain, routine, view or foreign
 * table: ownership of each (of the relation or its schema for a relation),
 * as RemoveObjects checks it.
 */
static bool
dropped_objects_allowed(DropStmt *stmt, bool raise)
{
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		Node	   *object = (Node *) lfirst(lc);
		Oid			classid = InvalidOid;
		Oid			objid = drop_named_object(stmt->removeType, object,
											  &classid);

		if (!OidIsValid(objid))
			continue;			/* PostgreSQL reports it, or skips it */
		if (classid == RelationRelationId)
		{
			if (!relation_allowed(makeRangeVarFromNameList((List *) object),
								  'd', 0, raise))
				return false;
			continue;
		}
		if (mg_object_ownercheck(classid, objid, GetUserId()))
			continue;
		if (raise)
			aclcheck_error(ACLCHECK_NOT_OWNER, stmt->removeType,
						   stmt->removeType == OBJECT_SCHEMA ? strVal(object) :
						   (stmt->removeType == OBJECT_TYPE ||
							stmt->removeType == OBJECT_DOMAIN) ?
						   TypeNameToString((TypeName *) object) :
						   NameListToString(((ObjectWithArgs *) object)->objname));
		return false;
	}
	return true;
}

/*
 * CREATE TABLE: ownership of the parents it inherits from or is a partition
 * of, the REFERENCES privilege on the tables its foreign keys reference
 * (checkFkeyPermissions also takes it on the referenced columns alone).
 */
static bool
create_table_allowed(CreateStmt *stmt, bool raise)
{
	ListCell   *lc;

	foreach(lc, stmt->inhRelations)
	{
		if (!relation_allowed((RangeVar *) lfirst(lc), 'o', 0, raise))
			return false;
	}
	foreach(lc, create_table_foreign_keys(stmt))
	{
		if (!relation_allowed(((Constraint *) lfirst(lc))->pktable, 'p',
							  ACL_REFERENCES, raise))
			return false;
	}
	return true;
}

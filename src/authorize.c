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
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"

#include "migration_guard.h"

/*
 * Is the user refused on this relation?  Returns the ACL result, for
 * aclcheck_error().  what: 'o' ownership, 'd' ownership of the relation or
 * of its schema (DROP), 't' the TRUNCATE privilege.
 */
static AclResult
relation_acl(RangeVar *rv, char what, Oid *relid)
{
	Oid			userid = GetUserId();

	*relid = RangeVarGetRelid(rv, NoLock, true);
	if (!OidIsValid(*relid))
		return ACLCHECK_OK;		/* PostgreSQL reports the missing relation */
	switch (what)
	{
		case 't':
			return pg_class_aclcheck(*relid, userid, ACL_TRUNCATE);
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
relation_allowed(RangeVar *rv, char what, bool raise)
{
	Oid			relid;
	AclResult	result = relation_acl(rv, what, &relid);

	if (result == ACLCHECK_OK)
		return true;
	if (raise)
		aclcheck_error(result, get_relkind_objtype(get_rel_relkind(relid)),
					   rv->relname);
	return false;
}

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
									'o', raise);
		case T_IndexStmt:
			return relation_allowed(((IndexStmt *) parsetree)->relation,
									'o', raise);
		case T_RenameStmt:
			{
				RenameStmt *stmt = (RenameStmt *) parsetree;

				if (stmt->relation == NULL)
					return true;	/* not a relation's rename */
				return relation_allowed(stmt->relation, 'o', raise);
			}
		case T_TruncateStmt:
			foreach(lc, ((TruncateStmt *) parsetree)->relations)
			{
				if (!relation_allowed((RangeVar *) lfirst(lc), 't', raise))
					return false;
			}
			return true;
		case T_DropStmt:
			{
				DropStmt   *stmt = (DropStmt *) parsetree;

				if (stmt->removeType != OBJECT_TABLE &&
					stmt->removeType != OBJECT_INDEX &&
					stmt->removeType != OBJECT_MATVIEW)
					return true;
				foreach(lc, stmt->objects)
				{
					RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));

					if (!relation_allowed(rv, 'd', raise))
						return false;
				}
				return true;
			}
		default:
			return true;
	}
}

/*-------------------------------------------------------------------------
 *
 * pg_compat.h
 *	  The one place where PostgreSQL major-version differences are handled.
 *
 * migration_guard is built and tested on PostgreSQL 15, 17 and 18 (see
 * README.md, "Supported majors").  Each API difference between them that
 * the sources meet is bridged here, so that the rest of the sources are
 * written against one API.  16 would need nothing more than what is here,
 * but no 16 is available to test on, so it is refused like any other major.
 *
 * Copyright (c) 2026, migration_guard developers
 *
 * IDENTIFICATION
 *	  src/pg_compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_PG_COMPAT_H
#define MG_PG_COMPAT_H

#include "postgres.h"

#include "storage/lock.h"
#include "storage/procarray.h"
#include "utils/backend_status.h"
#include "utils/relmapper.h"

#if PG_VERSION_NUM < 150000 || (PG_VERSION_NUM >= 160000 && PG_VERSION_NUM < 170000) || \
	PG_VERSION_NUM >= 190000
#error "migration_guard supports PostgreSQL 15, 17 and 18"
#endif

/*
 * Relation file paths.  16 renamed RelFileNode to RelFileLocator and the
 * mapper's lookup to RelationMapOidToFilenumber; 17 replaced backend ids by
 * proc numbers; 18 returns the path in a struct (RelPathStr) instead of a
 * palloc'd string.  mg_relpath() gives a palloc'd path of a permanent or
 * unlogged relation's fork.
 */
#if PG_VERSION_NUM >= 160000
#include "storage/relfilelocator.h"
typedef RelFileLocator MgRelFile;
#define MG_RELFILE_SET(rf, spc, db, rel) \
	((rf).spcOid = (spc), (rf).dbOid = (db), (rf).relNumber = (rel))
#define mg_relmap_filenumber(relid, shared) \
	RelationMapOidToFilenumber((relid), (shared))
#else
#include "storage/relfilenode.h"
typedef RelFileNode MgRelFile;
#define MG_RELFILE_SET(rf, spc, db, rel) \
	((rf).spcNode = (spc), (rf).dbNode = (db), (rf).relNode = (rel))
#define mg_relmap_filenumber(relid, shared) \
	RelationMapOidToFilenode((relid), (shared))
#endif

#if PG_VERSION_NUM >= 180000
#define mg_relpath(rf, fork) \
	pstrdup(relpathbackend((rf), INVALID_PROC_NUMBER, (fork)).str)
#elif PG_VERSION_NUM >= 170000
#define mg_relpath(rf, fork) relpathbackend((rf), INVALID_PROC_NUMBER, (fork))
#else
#define mg_relpath(rf, fork) relpathbackend((rf), InvalidBackendId, (fork))
#endif

/* The PGPROC of a lock holder's virtual transaction: 17 has proc numbers */
#if PG_VERSION_NUM >= 170000
#define mg_vxid_proc(vxid) ProcNumberGetProc((vxid).procNumber)
#define mg_my_lxid() (MyProc->vxid.lxid)
#else
#define mg_vxid_proc(vxid) BackendIdGetProc((vxid).backendId)
#define mg_my_lxid() (MyProc->lxid)
#endif

/* The n-th entry (from 1) of the local backend status snapshot, renamed in 16 */
#if PG_VERSION_NUM >= 160000
#define mg_local_beentry(n) pgstat_get_local_beentry_by_index(n)
#else
#define mg_local_beentry(n) pgstat_fetch_stat_local_beentry(n)
#endif

/*
 * Live tuples the cumulative statistics count for a table, and this
 * backend's change not yet flushed to them: renamed in 16
 */
#if PG_VERSION_NUM >= 160000
#define mg_tabentry_live_tuples(entry) ((entry)->live_tuples)
#define mg_tabstatus_delta_live_tuples(status) ((status)->counts.delta_live_tuples)
#else
#define mg_tabentry_live_tuples(entry) ((entry)->n_live_tuples)
#define mg_tabstatus_delta_live_tuples(status) ((status)->t_counts.t_delta_live_tuples)
#endif

/*
 * Has a VACUUM or ANALYZE set that count since the statistics were last
 * reset (a crash resets them)?  16 renamed the autovacuum counters.
 */
#if PG_VERSION_NUM >= 160000
#define mg_tabentry_maintained(entry) \
	((entry)->vacuum_count + (entry)->autovacuum_count + \
	 (entry)->analyze_count + (entry)->autoanalyze_count > 0)
#else
#define mg_tabentry_maintained(entry) \
	((entry)->vacuum_count + (entry)->autovac_vacuum_count + \
	 (entry)->analyze_count + (entry)->autovac_analyze_count > 0)
#endif

/*
 * The lookup check of REFRESH MATERIALIZED VIEW and REINDEX TABLE
 * (commands/tablecmds.h): 17 lets the MAINTAIN privilege run them
 */
#if PG_VERSION_NUM >= 170000
#define mg_callback_maintains_table RangeVarCallbackMaintainsTable
#else
#define mg_callback_maintains_table RangeVarCallbackOwnsTable
#endif

/* Do we hold exactly this lock mode?  17 added "or a stronger one" */
#if PG_VERSION_NUM >= 170000
#define mg_lock_held_by_me(tag, mode) LockHeldByMe((tag), (mode), false)
#else
#define mg_lock_held_by_me(tag, mode) LockHeldByMe((tag), (mode))
#endif

/*
 * 16 folded the per-catalog ACL and ownership checks into object_aclcheck()
 * and object_ownercheck()
 */
#if PG_VERSION_NUM >= 160000
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#define mg_namespace_aclcheck(nspid, roleid, mode) \
	object_aclcheck(NamespaceRelationId, (nspid), (roleid), (mode))
#define mg_class_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#define mg_namespace_ownercheck(nspid, roleid) \
	object_ownercheck(NamespaceRelationId, (nspid), (roleid))
#define mg_object_ownercheck(classid, objid, roleid) \
	object_ownercheck((classid), (objid), (roleid))
#else
#define mg_namespace_aclcheck(nspid, roleid, mode) \
	pg_namespace_aclcheck((nspid), (roleid), (mode))
#define mg_class_ownercheck(relid, roleid) pg_class_ownercheck((relid), (roleid))
#define mg_namespace_ownercheck(nspid, roleid) \
	pg_namespace_ownercheck((nspid), (roleid))
#define mg_object_ownercheck(classid, objid, roleid) \
	((classid) == NamespaceRelationId ? pg_namespace_ownercheck((objid), (roleid)) : \
	 (classid) == TypeRelationId ? pg_type_ownercheck((objid), (roleid)) : \
	 (classid) == ProcedureRelationId ? pg_proc_ownercheck((objid), (roleid)) : \
	 pg_class_ownercheck((objid), (roleid)))
#endif

/*
 * The privileges that let a role LOCK TABLE in a mode (LockTableAclCheck):
 * 17 added MAINTAIN, which permits any mode, and lets SELECT and INSERT
 * permit the modes below theirs.
 */
#if PG_VERSION_NUM >= 170000
#define mg_lock_table_privileges(mode) \
	(ACL_MAINTAIN | ACL_UPDATE | ACL_DELETE | ACL_TRUNCATE | \
	 ((mode) <= AccessShareLock ? ACL_SELECT : 0) | \
	 ((mode) <= RowExclusiveLock ? ACL_INSERT : 0))
#else
#define mg_lock_table_privileges(mode) \
	((mode) == AccessShareLock ? ACL_SELECT : \
	 (mode) == RowExclusiveLock ? \
	 (ACL_INSERT | ACL_UPDATE | ACL_DELETE | ACL_TRUNCATE) : \
	 (ACL_UPDATE | ACL_DELETE | ACL_TRUNCATE))
#endif

/*
 * Materialized set-returning functions: SetSingleFuncCall() appeared in 15
 * and was renamed InitMaterializedSRF() in 16 (the new name was back-patched
 * only to later 15.x minors, so 15 uses the old one).
 */
#if PG_VERSION_NUM >= 160000
#define mg_init_materialized_srf(fcinfo) InitMaterializedSRF((fcinfo), 0)
#else
#define mg_init_materialized_srf(fcinfo) SetSingleFuncCall((fcinfo), 0)
#endif

/*
 * A GUC check hook's "extra": malloc'd until 15; 16 frees it with pfree(),
 * so it must come from guc_malloc() there.
 */
#if PG_VERSION_NUM >= 160000
#include "utils/guc.h"
#define mg_guc_malloc(size) guc_malloc(LOG, (size))
#define mg_guc_free(ptr) guc_free(ptr)
#else
#define mg_guc_malloc(size) malloc(size)
#define mg_guc_free(ptr) free(ptr)
#endif

/*
 * What the engine can do, by major: the rulebook (inspect.c, relstats.c,
 * suggest.c) tests these instead of version numbers.
 *
 * 17: ALTER COLUMN ... SET EXPRESSION.
 * 18: NOT NULL is a pg_constraint row of its own, which may be NOT VALID
 *     (and pg_attribute.attnotnull is set for it all the same); generated
 *     columns are VIRTUAL unless STORED is written; CHECK and FOREIGN KEY
 *     may be NOT ENFORCED, and ALTER CONSTRAINT changes that; a foreign key
 *     on a partitioned table may be added NOT VALID; a key may end WITHOUT
 *     OVERLAPS.
 */
#if PG_VERSION_NUM >= 170000
#define MG_HAS_SET_EXPRESSION 1
#endif
#if PG_VERSION_NUM >= 180000
#define MG_HAS_NOT_NULL_CONSTRAINTS 1
#define MG_HAS_VIRTUAL_GENERATED 1
#define MG_HAS_NOT_ENFORCED 1
#define MG_HAS_PARTITIONED_NOT_VALID_FK 1
#define MG_HAS_WITHOUT_OVERLAPS 1
#endif

/* 18: an UPDATE's RETURNING is a clause node of its own (OLD and NEW) */
#if PG_VERSION_NUM >= 180000
#define mg_update_returns(stmt) ((stmt)->returningClause != NULL)
#else
#define mg_update_returns(stmt) ((stmt)->returningList != NIL)
#endif

/* ALTER TABLE subcommands that only exist as separate "Recurse" tags < 16 */
#if PG_VERSION_NUM < 160000
#define MG_HAS_RECURSE_SUBTYPES 1
#endif

#endif							/* MG_PG_COMPAT_H */

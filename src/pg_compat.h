/*-------------------------------------------------------------------------
 *
 * pg_compat.h
 *	  The one place where PostgreSQL major-version differences are handled.
 *
 * migration_guard is built and tested on PostgreSQL 15 only.  The majors we
 * mean to support next (14, 16 to 18) differ in APIs the sources use
 * (relation file paths, backend ids, relation mapper names, the SRF
 * set-up); each such difference goes here, so that the rest of the sources
 * are written against one API.  Until they are done, other majors refuse
 * to build.
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

#if PG_VERSION_NUM < 150000 || PG_VERSION_NUM >= 160000
#error "migration_guard supports PostgreSQL 15 only so far"
#endif

/*
 * PostgreSQL 16 renamed RelFileNode to RelFileLocator; we only need the
 * on-disk path of a relation's segments.
 */
#if PG_VERSION_NUM >= 160000
#include "storage/relfilelocator.h"
typedef RelFileLocator MgRelFile;
#define MG_RELFILE_SET(rf, spc, db, rel) \
	((rf).spcOid = (spc), (rf).dbOid = (db), (rf).relNumber = (rel))
#define mg_relpath(rf, backend, fork) relpathbackend((rf), (backend), (fork))
#else
#include "storage/relfilenode.h"
typedef RelFileNode MgRelFile;
#define MG_RELFILE_SET(rf, spc, db, rel) \
	((rf).spcNode = (spc), (rf).dbNode = (db), (rf).relNode = (rel))
#define mg_relpath(rf, backend, fork) relpathbackend((rf), (backend), (fork))
#endif

/*
 * Materialized set-returning functions: SetSingleFuncCall() appeared in 15
 * and was renamed InitMaterializedSRF() in 16 (the new name was back-patched
 * only to later 15.x minors, so 15 uses the old one).  14 has neither yet.
 */
#if PG_VERSION_NUM >= 160000
#define mg_init_materialized_srf(fcinfo) InitMaterializedSRF((fcinfo), 0)
#elif PG_VERSION_NUM >= 150000
#define mg_init_materialized_srf(fcinfo) SetSingleFuncCall((fcinfo), 0)
#endif

/* ALTER TABLE subcommands that only exist as separate "Recurse" tags < 16 */
#if PG_VERSION_NUM < 160000
#define MG_HAS_RECURSE_SUBTYPES 1
#endif

#endif							/* MG_PG_COMPAT_H */

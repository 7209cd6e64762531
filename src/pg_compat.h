/*-------------------------------------------------------------------------
 *
 * pg_compat.h
 *	  The one place where PostgreSQL major-version differences are handled.
 *
 * migration_guard targets PostgreSQL 15.  Anything that differs between the
 * majors we mean to support (14 to 18) is wrapped here, so that the rest of
 * the sources can be written against a single API.
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

#if PG_VERSION_NUM < 140000 || PG_VERSION_NUM >= 190000
#error "migration_guard supports PostgreSQL 14 to 18"
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
